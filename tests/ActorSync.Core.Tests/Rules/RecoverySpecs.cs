using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// Replaying a replica's own journal (<see cref="Replica.Recover"/>) rebuilds the same state as
/// receiving the deltas from the network, without verifying signatures a second time; bytes from
/// the network still go through <see cref="Replica.Receive"/>, which verifies.
/// </summary>
public class RecoverySpecs
{
    [Fact]
    public void Recovering_a_log_should_give_the_state_receiving_it_gives_and_skip_only_signature_checks()
    {
        using var ann = new TestMember("ann");
        using var bob = new TestMember("bob");
        var now = 1_700_000_000_000L;
        var owner = ann.CreateWorkspace("recover", now, out _);
        Assert.True(owner.Invite(bob.Card, Role.Participant, now += 7, out var invitation).Ok);
        var chat = new ToolId("chat");
        for (var i = 0; i < 50; i++) Assert.True(owner.Author(chat, new CreateEntry(EntryFields.Of(("text", $"message {i}"))), now += 7).Ok);

        var received = bob.Join(invitation!);
        var recovered = bob.Join(invitation!);
        foreach (var d in owner.Log)
        {
            received.Receive(Forge.OverTheWire(d));
            recovered.Recover(Forge.OverTheWire(d));
        }
        Assert.Equal(owner.State.StateHash(), received.State.StateHash());
        Assert.Equal(received.State.StateHash(), recovered.State.StateHash());
        Assert.Equal(received.State.AppliedCount, recovered.State.AppliedCount);

        // A delta whose signature was damaged: the network path drops it, the journal path trusts it.
        Assert.True(owner.Author(chat, new CreateEntry(EntryFields.Of(("text", "last"))), now += 7).Ok);
        var last = owner.Log.Last();
        var damaged = Forge.Tampered(last, last.Bytes.Length - 1);
        Assert.Equal(ReceiveStatus.Dropped, received.Receive(damaged)[0].Status);
        Assert.Equal(ReceiveStatus.Applied, recovered.Recover(damaged)[0].Status);
    }
}

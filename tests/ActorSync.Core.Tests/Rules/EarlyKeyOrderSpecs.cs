using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// An invitee whose invitation lacks the key of an epoch opened concurrently gets that key from the
/// rotation that heals it, whatever order the deltas reach it in. The healing rotation depends on
/// a delta sealed under the missing key, so it waits in the causal buffer behind it: the invitee
/// must take the key from the waiting rotation's grant whether the rotation arrives after the
/// delta was parked or before (found by the image specs' random workloads: with the rotation first,
/// the invitee stayed without the key for good, and no member saw a reason to rotate again).
/// </summary>
public class EarlyKeyOrderSpecs
{
    private static readonly ToolId Discussion = new("discussion");

    private static SealedDelta Must(AuthorResult result)
    {
        Assert.True(result.Ok, result.Rejection);
        return result.Last;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Invitee_should_read_an_epoch_its_invitation_missed_whether_the_healing_rotation_comes_before_or_after(bool rotationFirst)
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant));
        using var dan = new TestMember("dan");
        // bob opens an epoch ann has not seen when she invites dan: dan's invitation lacks its key.
        var rotation = Must(ws["bob"].Rekey(ws.Tick()));
        Must(ws["ann"].Invite(dan.Card, Role.Participant, ws.Tick(), out var invitation));
        Assert.False(ws["ann"].State.IsApplied(rotation.Id));
        var sealedUnderNewEpoch = Must(ws["bob"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "in the new epoch"))), ws.Tick()));
        ws.SyncAll();
        // The rotation sorts before the invite: dan is a member that does not hold the current key, so a member rotates again.
        Assert.True(ws["cat"].State.Current.NeedsRekey);
        var healing = Must(ws["cat"].Rekey(ws.Tick()));
        Assert.Contains(sealedUnderNewEpoch.Id, healing.Header.AllDependencies.Concat(ws["cat"].State.PastOf(healing.Header)!.Entries.Select(e => new Causality.DeltaId(e.Device, e.Seq))));
        ws.SyncAll();

        var joined = dan.Join(invitation!);
        ws.Replicas["dan"] = joined;
        var log = ws["ann"].Log.Where(d => d.Id != sealedUnderNewEpoch.Id).ToList();
        if (rotationFirst)
        {
            // The healing rotation waits for the entry, which then arrives and cannot be read yet.
            foreach (var d in log) joined.Receive(Forge.OverTheWire(d));
            Assert.True(joined.BufferedCount > 0);
            joined.Receive(Forge.OverTheWire(sealedUnderNewEpoch));
        }
        else
        {
            // The entry first (parked), then the rotation.
            foreach (var d in log.Where(d => d.Id != healing.Id)) joined.Receive(Forge.OverTheWire(d));
            joined.Receive(Forge.OverTheWire(sealedUnderNewEpoch));
            joined.Receive(Forge.OverTheWire(healing));
        }
        ws.SyncAll();

        Assert.Equal(0, joined.ParkedCount);
        Assert.Equal(0, joined.BufferedCount);
        Assert.True(joined.State.IsApplied(healing.Id));
        Assert.True(joined.Keyring.Has(joined.State.Current.Epoch));
        Assert.Single(ws.Replicas.Values.Select(r => r.State.StateHash()).Distinct());
    }
}

using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// ARCHITECTURE.md section 6, invariant 3 at the replica: a removed member cannot read anything
/// written after its removal, and nobody without a key (a relay, a network capture) can read
/// anything at all. The removed member's replica is kept alive and handed every later delta.
/// </summary>
public class ConfidentialitySpecs
{
    private static readonly ToolId Discussion = new("discussion");

    private static CreateEntry Post(string text) => new(EntryFields.Of(("text", text)));

    private static SealedDelta Must(AuthorResult result)
    {
        Assert.True(result.Ok, result.Rejection);
        return result.Last;
    }

    private static bool ChangesMembershipOrKeys(SealedDelta d) => d.Header.Kind is OpKind.RemoveMember or OpKind.RotateKey;

    /// <summary>
    /// ann uninvites xav and rotates the key at once; then ann, bob and cat go on: posts, an edit,
    /// a new member who posts too, and a second uninvite. xav's replica is taken out of the sync
    /// (it has not even received its own removal yet) and kept for the caller.
    /// </summary>
    private static (SealedDelta Removal, List<SealedDelta> Later) UninviteAndGoOn(TestWorkspace ws, TestMember dan, out Replica xav)
    {
        Must(ws["xav"].Author(Discussion, Post("xav's last words"), ws.Tick()));
        ws.SyncAll();
        var removal = Must(ws["ann"].Uninvite(ws.Member("xav").Id, ws.Tick()));
        Must(ws["ann"].Rekey(ws.Tick()));
        xav = ws.Replicas["xav"];
        ws.Replicas.Remove("xav");
        ws.SyncAll();

        Must(ws["ann"].Author(Discussion, Post("after xav left"), ws.Tick()));
        Must(ws["bob"].Author(Discussion, Post("bob too"), ws.Tick()));
        var catPost = Must(ws["cat"].Author(Discussion, Post("cat three"), ws.Tick()));
        ws.SyncAll();
        Must(ws["ann"].Author(Discussion, new EditEntry(catPost.Id, EntryFields.Of(("title", "secret plans"))), ws.Tick()));
        Must(ws["bob"].Invite(dan.Card, Role.Participant, ws.Tick(), out var invitation));
        ws.Replicas["dan"] = dan.Join(invitation!);
        ws.SyncAll();
        Must(ws["dan"].Author(Discussion, Post("hello from dan"), ws.Tick()));
        ws.SyncAll();
        Must(ws["ann"].Uninvite(dan.Id, ws.Tick()));
        ws.SyncAll();

        var later = ws["ann"].Log.SkipWhile(d => d.Id != removal.Id).Skip(1).ToList();
        Assert.True(later.Count >= 8, $"only {later.Count} later deltas");
        Assert.Equal(2, later.Count(ChangesMembershipOrKeys));
        return (removal, later);
    }

    /// <summary>Hands xav its removal, then every later delta in the order they were written; returns every outcome.</summary>
    private static List<ReceiveOutcome> HandOver(Replica xav, SealedDelta removal, List<SealedDelta> later)
    {
        Assert.Equal(ReceiveStatus.Applied, xav.Receive(Forge.OverTheWire(removal))[0].Status);
        Assert.False(xav.IsMember);
        var outcomes = new List<ReceiveOutcome>();
        foreach (var delta in later)
        {
            Assert.False(xav.Keyring.Has(delta.Header.Epoch), $"{delta} is under an epoch xav holds");
            outcomes.AddRange(xav.Receive(Forge.OverTheWire(delta)));
        }
        return outcomes;
    }

    [Fact]
    public void Removed_member_should_apply_nothing_written_after_its_removal()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant), ("xav", Role.Participant));
        using var dan = new TestMember("dan");
        var (removal, later) = UninviteAndGoOn(ws, dan, out var removed);
        using var xav = removed;

        var outcomes = HandOver(xav, removal, later);

        // What it has the dependencies for is parked for want of the key; what builds on that waits behind it.
        var content = later.Where(d => !ChangesMembershipOrKeys(d)).Select(d => d.Id).ToHashSet();
        Assert.DoesNotContain(outcomes, o => content.Contains(o.Id) && o.Status is not (ReceiveStatus.Parked or ReceiveStatus.Buffered));
        Assert.Contains(outcomes, o => o.Status == ReceiveStatus.Parked);
        Assert.All(content, id => Assert.False(xav.State.IsApplied(id), $"xav applied {id}"));
        Assert.DoesNotContain(xav.State.EntriesOf(Discussion)!.All, e => content.Contains(e.Id));
        Assert.Equal("xav's last words", Assert.Single(xav.State.EntriesOf(Discussion)!.All)["text"]);
        // Handing everything over again changes nothing.
        var hash = xav.State.StateHash();
        Assert.All(later, d => Assert.Equal(ReceiveStatus.Duplicate, xav.Receive(Forge.OverTheWire(d))[0].Status));
        Assert.Equal(hash, xav.State.StateHash());
    }

    [Fact]
    public void Removed_members_keyring_should_open_nothing_written_after_its_removal()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant), ("xav", Role.Participant));
        using var dan = new TestMember("dan");
        var (removal, later) = UninviteAndGoOn(ws, dan, out var removed);
        using var xav = removed;
        xav.Receive(Forge.OverTheWire(removal));

        Assert.All(later.Where(d => !ChangesMembershipOrKeys(d)),
            d => Assert.Equal(OpenFailure.NoKeyForEpoch, DeltaCrypto.TryDecrypt(d, xav.Keyring, out _)));
        // Control: the same deltas open with a remaining member's keyring.
        Assert.All(later, d => Assert.Equal(OpenFailure.None, DeltaCrypto.TryDecrypt(d, ws["cat"].Keyring, out _)));
    }

    [Fact]
    public void Removed_member_should_neither_open_nor_apply_the_membership_changes_after_its_removal()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant), ("xav", Role.Participant));
        using var dan = new TestMember("dan");
        var (removal, later) = UninviteAndGoOn(ws, dan, out var removed);
        using var xav = removed;
        var applied = xav.State.Applied;

        var outcomes = HandOver(xav, removal, later);

        Assert.All(later.Where(ChangesMembershipOrKeys), d =>
        {
            Assert.Equal(OpenFailure.NoKeyForEpoch, DeltaCrypto.TryDecrypt(d, xav.Keyring, out _));
            Assert.False(xav.State.IsApplied(d.Id), $"xav applied {d}");
        });
        Assert.DoesNotContain(outcomes, o => o.Status == ReceiveStatus.Applied);
        Assert.Equal(applied.With(removal.Id), xav.State.Applied);
    }

    [Fact]
    public void Outsider_with_no_key_should_open_no_delta_of_the_workspace()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant), ("xav", Role.Participant));
        using var dan = new TestMember("dan");
        UninviteAndGoOn(ws, dan, out var removed);
        using var xav = removed;
        // A relay holds every delta and knows the workspace id (it is in each header), but no key.
        using var relay = new EpochKeyring(ws["ann"].Id);

        Assert.All(ws["ann"].Log, d => Assert.Equal(OpenFailure.NoKeyForEpoch, DeltaCrypto.TryDecrypt(d, relay, out _)));
    }

    [Fact]
    public void Removed_member_should_find_no_wrapped_key_it_can_open_after_its_removal()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant), ("xav", Role.Participant));
        using var dan = new TestMember("dan");
        var (removal, later) = UninviteAndGoOn(ws, dan, out var removed);
        using var xav = removed;
        var xavAccount = ws.Member("xav").Account;
        var context = Invitation.KeyContext(ws["ann"].Id);

        // Every key handed out from the removal on (the removal's own, the rotation's, the second uninvite's), tried with xav's key.
        var wrapped = new[] { removal }.Concat(later).SelectMany(d => d.Header.Keys?.Wrapped ?? []).ToList();
        Assert.True(wrapped.Count >= 8, $"only {wrapped.Count} wrapped keys");
        Assert.DoesNotContain(wrapped, k => k.Recipient == xavAccount.Id);
        Assert.All(wrapped, k => Assert.Throws<WireFormatException>(() => KeyWrap.Unwrap(k.Wrapped, xavAccount.Agreement, context)));
    }
}

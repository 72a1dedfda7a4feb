using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// The other side of confidentiality (ARCHITECTURE.md section 5, "Invitation" and "Uninvite";
/// section 6, invariants 1 and 2): every member, including one invited concurrently with a new
/// key epoch, ends up holding the right key for the current epoch, so it can read and write.
/// </summary>
public class KeyDistributionSpecs
{
    private static readonly ToolId Discussion = new("discussion");

    private static SealedDelta Must(AuthorResult result)
    {
        Assert.True(result.Ok, result.Rejection);
        return result.Last;
    }

    [Fact]
    public void Invitee_should_hold_every_key_when_invited_after_a_new_epoch()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("xav", Role.Participant));
        using var dan = new TestMember("dan");
        Must(ws["ann"].Uninvite(ws.Member("xav").Id, ws.Tick()));
        Must(ws["ann"].Rekey(ws.Tick()));
        ws.Replicas.Remove("xav", out var xav);
        using var removed = xav;
        ws.SyncAll();

        Must(ws["bob"].Invite(dan.Card, Role.Participant, ws.Tick(), out var invitation));
        ws.Replicas["dan"] = dan.Join(invitation!);
        ws.SyncAll();

        Assert.All(ws["ann"].Keyring.Epochs, e => Assert.True(ws["dan"].Keyring.Has(e)));
        Assert.Equal(0, ws["dan"].ParkedCount);
        var post = Must(ws["dan"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "hi"))), ws.Tick()));
        ws.SyncAll();
        Assert.All(ws.Replicas.Values, r => Assert.True(r.State.IsApplied(post.Id)));
    }

    [Theory]
    [InlineData("rotation")]
    [InlineData("uninvite")]
    public void Invitee_should_get_the_current_key_when_its_invite_sorts_after_a_concurrent_new_epoch(string newEpoch) =>
        InviteConcurrentlyWithANewEpoch(newEpoch, inviteSortsLater: true);

    [Theory]
    [InlineData("rotation")]
    [InlineData("uninvite")]
    public void Invitee_should_get_the_current_key_when_its_invite_sorts_before_a_concurrent_new_epoch(string newEpoch) =>
        InviteConcurrentlyWithANewEpoch(newEpoch, inviteSortsLater: false);

    /// <summary>
    /// ann opens a new epoch (a rotation or an uninvite) while bob, not having seen it, invites dan;
    /// then the workspace goes on and dan must end up able to read and write.
    /// </summary>
    private static void InviteConcurrentlyWithANewEpoch(string newEpoch, bool inviteSortsLater)
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant), ("xav", Role.Participant));
        using var dan = new TestMember("dan");
        AuthorResult OpenEpoch() => newEpoch == "rotation" ? ws["ann"].Rekey(ws.Tick()) : ws["ann"].Uninvite(ws.Member("xav").Id, ws.Tick());
        Invitation? invitation = null;
        if (!inviteSortsLater) Must(ws["bob"].Invite(dan.Card, Role.Participant, ws.Tick(), out invitation));
        var opening = Must(OpenEpoch());
        if (inviteSortsLater) Must(ws["bob"].Invite(dan.Card, Role.Participant, ws.Tick(), out invitation));
        Assert.False(ws["bob"].State.IsApplied(opening.Id));
        ws.Replicas.Remove("xav", out var xav);
        using var removed = xav;
        ws.Replicas["dan"] = dan.Join(invitation!);
        ws.SyncAll();

        // The workspace goes on; whoever writes next rotates the key first if a member lacks it.
        var welcome = Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "welcome dan"))), ws.Tick()));
        ws.SyncAll();

        Assert.True(ws["dan"].Keyring.Has(ws["ann"].State.Current.Epoch), "dan lacks the current epoch key");
        Assert.True(ws["dan"].State.IsApplied(welcome.Id), "dan cannot read what is written after it joined");
        Assert.Equal(0, ws["dan"].ParkedCount);
        Assert.Single(ws.Replicas.Values.Select(r => r.State.StateHash()).Distinct());
        Assert.True(ws["dan"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "thanks"))), ws.Tick()).Ok);
    }

    [Fact]
    public void Invitee_should_read_what_was_written_in_a_concurrent_new_epoch_before_anyone_knew_of_it()
    {
        // actorsync sim partitions --seed 7: dan parks ann's post (no key for its epoch); the rotation
        // that wraps the key for dan depends on that post, so it waited behind it in the buffer for good.
        var (ws, dan, secret) = DanInvitedDuringANewEpoch();
        using var disposeWs = ws;
        using var disposeDan = dan;
        Assert.False(ws["dan"].State.IsApplied(secret.Id));

        // The rotation that follows (at ann's next command here; a peer rotates as soon as it sees the gap) opens it all.
        var welcome = Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "welcome dan"))), ws.Tick()));
        ws.SyncAll();

        Assert.True(ws["dan"].State.IsApplied(secret.Id), "dan cannot read what was written in the epoch concurrent with its invitation");
        Assert.True(ws["dan"].State.IsApplied(welcome.Id), "dan cannot read what is written after the rotation");
        Assert.Equal(0, ws["dan"].ParkedCount);
        Assert.Equal(0, ws["dan"].BufferedCount);
        Assert.Single(ws.Replicas.Values.Select(r => r.State.StateHash()).Distinct());
    }

    [Fact]
    public void Command_refused_after_its_key_rotation_should_hand_back_the_rotation_to_commit()
    {
        // As above, ann must rotate before her next command, and that command is refused (no such tool).
        // The rotation was authored and applied first: it used to be dropped with the refusal, kept in
        // memory but never journaled: after a restart ann's later deltas waited for it, and its number was authored again.
        var (ws, dan, secret) = DanInvitedDuringANewEpoch();
        using var disposeWs = ws;
        using var disposeDan = dan;

        var refused = ws["ann"].Author(new ToolId("no-such-tool"), new CreateEntry(EntryFields.Of(("text", "lost"))), ws.Tick());

        Assert.False(refused.Ok);
        Assert.Contains("no tool 'no-such-tool'", refused.Rejection, StringComparison.Ordinal);
        var rotation = Assert.Single(refused.Deltas);
        Assert.Equal(OpKind.RotateKey, rotation.Header.Kind);
        Assert.True(ws["ann"].State.IsApplied(rotation.Id));
        Assert.False(ws["ann"].State.Current.NeedsRekey);
        // Delivered like any committed delta, it opens the epoch to dan; ann's next delta follows it in sequence.
        foreach (var name in new[] { "bob", "dan" }) ws[name].Receive(rotation);
        var next = Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "after"))), ws.Tick()));
        Assert.Equal(rotation.Id.Seq + 1, next.Id.Seq);
        ws.SyncAll();
        Assert.True(ws["dan"].State.IsApplied(secret.Id));
        Assert.True(ws["dan"].State.IsApplied(next.Id));
        Assert.Single(ws.Replicas.Values.Select(r => r.State.StateHash()).Distinct());
    }

    /// <summary>
    /// ann removes xav and writes under the new epoch while bob, cut off, invites dan; then all
    /// sync: dan lacks the new epoch's key, so ann must rotate before her next command.
    /// </summary>
    private static (TestWorkspace Ws, TestMember Dan, SealedDelta Secret) DanInvitedDuringANewEpoch()
    {
        var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("xav", Role.Participant));
        var dan = new TestMember("dan");
        Must(ws["ann"].Uninvite(ws.Member("xav").Id, ws.Tick()));
        var secret = Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "written in the new epoch"))), ws.Tick()));
        Must(ws["bob"].Invite(dan.Card, Role.Participant, ws.Tick(), out var invitation));
        ws.Replicas.Remove("xav", out var xav);
        xav?.Dispose();
        ws.Replicas["dan"] = dan.Join(invitation!);
        ws.SyncAll();
        Assert.True(ws["ann"].State.Current.NeedsRekey);
        return (ws, dan, secret);
    }

    [Fact]
    public void Member_should_not_be_poisoned_with_a_key_for_an_epoch_not_opened_yet()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant));
        var (ann, bob, cat) = (ws.Member("ann"), ws.Member("bob"), ws.Member("cat"));
        var context = Invitation.KeyContext(ws["bob"].Id);

        // bob, a hostile participant, rotates the key (any member may) and wraps for cat an extra key for the epoch
        // that ann's next delta would open.
        var header = Forge.NextHeader(ws["bob"], bob, ToolId.Workspace, OpKind.RotateKey, ws.Tick());
        using var honest = Forge.CopyOf(ws["bob"].Keyring, ws["bob"].Id);
        var bobsKey = EpochKeyring.NewKey();
        honest.Add(EpochId.OpenedBy(header.Id), bobsKey);
        using var poisoned = Forge.CopyOf(honest, ws["bob"].Id);
        var annsNextEpoch = EpochId.OpenedBy(new DeltaId(ann.Device.Id, ws["ann"].State.Applied[ann.Device.Id] + 1));
        poisoned.Add(annsNextEpoch, EpochKeyring.NewKey());
        var keys = new[] { ann, bob, cat }
            .Select(m => new WrappedKeyring(m.Id, KeyWrap.Wrap((m == cat ? poisoned : honest).Export(), m.Card.AgreementPublicKey, context)))
            .OrderBy(k => k.Recipient)
            .ToList();
        header = header with { Keys = new KeyGrant(KeyGrant.Commit(ws["bob"].Id, EpochId.OpenedBy(header.Id), bobsKey), keys) };
        var rotation = DeltaCrypto.Seal(header, new RotateKey(), ws["bob"].Keyring, bob.Device.Signing);
        Assert.All(new[] { "ann", "cat", "bob" }, n => Assert.Equal(ReceiveStatus.Applied, ws[n].Receive(Forge.OverTheWire(rotation))[0].Status));

        // ann rotates for real, then writes.
        Must(ws["ann"].Rekey(ws.Tick()));
        Assert.Equal(annsNextEpoch, ws["ann"].State.Current.Epoch);
        var post = Must(ws["ann"].Author(Discussion, new CreateEntry(EntryFields.Of(("text", "can everyone read this?"))), ws.Tick()));
        ws.SyncAll();

        Assert.True(ws["cat"].State.IsApplied(post.Id), ws["cat"].Rejected.GetValueOrDefault(post.Id) ?? "not applied");
        Assert.Single(ws.Replicas.Values.Select(r => r.State.StateHash()).Distinct());
    }
}

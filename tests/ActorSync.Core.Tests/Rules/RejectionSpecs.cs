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
/// ARCHITECTURE.md section 6, invariant 4: a delta with a bad signature, an unknown author, a
/// stale epoch, a replayed id, a permission its author lacks or an impossible time is refused by
/// every replica, the same way: rejected for good when its author can be identified, dropped
/// without a trace when it cannot. The forged deltas are sealed by hand, as a modified client would.
/// </summary>
public class RejectionSpecs
{
    private static readonly ToolId Discussion = new("discussion");

    private static CreateEntry Post(string text) => new(EntryFields.Of(("text", text)));

    private static SealedDelta Must(AuthorResult result)
    {
        Assert.True(result.Ok, result.Rejection);
        return result.Last;
    }

    /// <summary>
    /// Hands <paramref name="delta"/> (re-parsed from its bytes) to each named replica and asserts
    /// each reaches <paramref name="expected"/> for the same reason, without changing its state.
    /// </summary>
    private static string AssertEveryReplica(TestWorkspace ws, SealedDelta delta, ReceiveStatus expected, params string[] names)
    {
        var reasons = new HashSet<string?>();
        foreach (var name in names)
        {
            var replica = ws[name];
            var hash = replica.State.StateHash();
            var applied = replica.State.Applied;
            var seenBefore = replica.Seen.Contains(delta.Id);
            var outcomes = replica.Receive(Forge.OverTheWire(delta));
            Assert.True(outcomes[0].Status == expected,
                $"{name}: {outcomes[0].Status} ({outcomes[0].Reason}) where {expected} was expected");
            Assert.Single(outcomes);
            Assert.Equal(hash, replica.State.StateHash());
            Assert.Equal(applied, replica.State.Applied);
            if (expected == ReceiveStatus.Rejected)
            {
                Assert.True(replica.Rejected.ContainsKey(delta.Id), $"{name} did not record the rejection");
                Assert.Equal(ReceiveStatus.Duplicate, replica.Receive(Forge.OverTheWire(delta))[0].Status);
            }
            if (expected == ReceiveStatus.Dropped)
                Assert.Equal(seenBefore, replica.Seen.Contains(delta.Id)); // dropped without a trace
            reasons.Add(outcomes[0].Reason);
        }
        Assert.Single(reasons);
        return reasons.Single()!;
    }

    /// <summary>Every member's replica holds the same state (a removed member's replica is left out: it can no longer read).</summary>
    private static void AssertConverged(TestWorkspace ws)
    {
        ws.SyncAll();
        var members = ws.Replicas.Values.Where(r => r.IsMember).ToList();
        Assert.Single(members.Select(r => r.State.StateHash()).Distinct());
        Assert.All(members, r => Assert.Equal(0, r.BufferedCount));
    }

    /// <summary>After a refusal the workspace goes on: a new honest delta reaches and is applied by every member.</summary>
    private static void AssertStillLive(TestWorkspace ws, string author)
    {
        var next = Must(ws[author].Author(Discussion, Post("still here"), ws.Tick()));
        ws.SyncAll();
        Assert.All(ws.Replicas.Values.Where(r => r.IsMember), r => Assert.True(r.State.IsApplied(next.Id), $"{r.Name} lacks {next.Id}"));
        AssertConverged(ws);
    }

    // ---- unattributable: dropped ------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(63)]
    public void Bad_signature_should_be_dropped_by_every_replica_and_not_burn_the_genuine_delta(int signatureByte)
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        var genuine = Must(ws["ann"].Author(Discussion, Post("hello"), ws.Tick()));
        var forged = Forge.Tampered(genuine, genuine.Bytes.Length - Signing.SignatureSize + signatureByte);

        Assert.Contains("bad signature", AssertEveryReplica(ws, forged, ReceiveStatus.Dropped, "bob", "cat"), StringComparison.Ordinal);
        // At its author, the forgery is a different delta under an id already applied.
        Assert.Contains("replay", AssertEveryReplica(ws, forged, ReceiveStatus.Dropped, "ann"), StringComparison.Ordinal);

        Assert.All(new[] { "bob", "cat" }, n => Assert.Equal(ReceiveStatus.Applied, ws[n].Receive(Forge.OverTheWire(genuine))[0].Status));
        AssertConverged(ws);
    }

    [Fact]
    public void Bad_signature_on_a_delta_with_a_forged_dependency_should_not_keep_the_genuine_delta_out()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        var genuine = Must(ws["bob"].Author(Discussion, Post("hello"), ws.Tick()));
        Assert.Single(genuine.Header.Dependencies);
        // Damage the first byte of the one listed dependency's device: the copy now waits for a delta that does not exist.
        var dependencyAt = 1 + WorkspaceId.Size + EpochId.Size + 2 * Fingerprint.Size + 1 + 1;
        var forged = Forge.Tampered(genuine, dependencyAt, 0xFF);
        Assert.Equal(genuine.Id, forged.Id);
        Assert.NotEqual(genuine.Header.Dependencies[0], forged.Header.Dependencies[0]);

        var first = ws["cat"].Receive(Forge.OverTheWire(forged));
        Assert.NotEqual(ReceiveStatus.Applied, first[0].Status);
        ws["cat"].Receive(Forge.OverTheWire(genuine));
        ws.SyncAll();

        Assert.True(ws["cat"].State.IsApplied(genuine.Id), "a forged copy held in the causal buffer kept the genuine delta out");
        AssertConverged(ws);
    }

    [Theory]
    [InlineData("stranger", "unknown")]
    [InlineData("claims a member's account", "unknown")]
    [InlineData("claims a member's account and device", "signature")]
    public void Delta_from_outside_the_workspace_should_be_dropped_by_every_replica(string disguise, string reason)
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        using var eve = new TestMember("eve");
        var ann = ws.Member("ann");
        // Eve has the real epoch key (say it leaked) and her own signing key, but is not a member.
        var header = Forge.NextHeader(ws["ann"], ann, Discussion, OpKind.CreateEntry, ws.Tick());
        // Eve's own device has no previous delta, so she lists the workspace's heads: her delta's past holds the membership.
        IReadOnlyList<DeltaId> heads = [.. ws["ann"].Heads.Order()];
        header = disguise switch
        {
            "stranger" => header with { Author = eve.Id, Device = eve.Device.Id, Seq = 1, Dependencies = heads },
            "claims a member's account" => header with { Device = eve.Device.Id, Seq = 1, Dependencies = heads },
            _ => header,
        };
        var forged = DeltaCrypto.Seal(header, Post("let me in"), ws["ann"].Keyring, eve.Device.Signing);

        Assert.Contains(reason, AssertEveryReplica(ws, forged, ReceiveStatus.Dropped, "ann", "bob", "cat"), StringComparison.Ordinal);
        // The id a forgery claimed stays free for its real owner.
        AssertStillLive(ws, "ann");
    }

    [Fact]
    public void Replayed_delta_id_should_be_dropped_with_other_bytes_and_ignored_with_the_same_bytes()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        var original = Must(ws["ann"].Author(Discussion, Post("original"), ws.Tick()));
        ws.SyncAll();
        // The real author's device signs a second delta under the same id (a restored device, or a hostile one).
        var replay = DeltaCrypto.Seal(original.Header, Post("rewritten"), ws["ann"].Keyring, ws.Member("ann").Device.Signing);
        Assert.Equal(original.Id, replay.Id);

        Assert.Contains("replay", AssertEveryReplica(ws, replay, ReceiveStatus.Dropped, "ann", "bob", "cat"), StringComparison.Ordinal);
        AssertEveryReplica(ws, original, ReceiveStatus.Duplicate, "ann", "bob", "cat");
        Assert.All(ws.Replicas.Values, r => Assert.Equal("original", r.State.EntriesOf(Discussion)!.Find(original.Id)!["text"]));
        AssertConverged(ws);
    }

    // ---- stale or wrong epoch ---------------------------------------------------------------

    [Theory]
    [InlineData("the epoch the uninvite closed")]
    [InlineData("an epoch nobody opened")]
    [InlineData("the new epoch without the uninvite in its past")]
    public void Delta_under_a_wrong_epoch_should_be_rejected_by_every_replica(string which)
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant), ("xav", Role.Participant));
        var before = Must(ws["ann"].Author(Discussion, Post("before"), ws.Tick()));
        ws.SyncAll();
        var oldEpoch = ws["ann"].State.Current.Epoch;
        var removal = Must(ws["ann"].Uninvite(ws.Member("xav").Id, ws.Tick()));
        ws.SyncAll();
        var newEpoch = ws["ann"].State.Current.Epoch;
        Assert.NotEqual(oldEpoch, newEpoch);
        Assert.True(ws["bob"].State.IsApplied(removal.Id));

        var bob = ws.Member("bob");
        var header = Forge.NextHeader(ws["bob"], bob, Discussion, OpKind.CreateEntry, ws.Tick());
        using var keys = Forge.CopyOf(ws["bob"].Keyring, ws["bob"].Id);
        header = which switch
        {
            "the epoch the uninvite closed" => header with { Epoch = oldEpoch },
            "an epoch nobody opened" => header with { Epoch = new EpochId(0x0123456789ABCDEF, 42) },
            _ => header with { Dependencies = [before.Id] },
        };
        if (which == "an epoch nobody opened") keys.Add(header.Epoch, EpochKeyring.NewKey());
        Assert.True(header.Epoch != newEpoch || !header.Dependencies.Contains(removal.Id));
        var stale = DeltaCrypto.Seal(header, Post("old key"), keys, bob.Device.Signing);

        Assert.Contains("epoch", AssertEveryReplica(ws, stale, ReceiveStatus.Rejected, "ann", "cat", "xav", "bob"), StringComparison.Ordinal);
        AssertConverged(ws);
    }

    // ---- permissions ------------------------------------------------------------------------

    [Fact]
    public void Guest_deleting_another_members_entry_should_be_rejected_by_every_replica()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        var entry = Must(ws["bob"].Author(Discussion, Post("mine"), ws.Tick()));
        ws.SyncAll();
        var delete = new DeleteEntry(entry.Id);
        Assert.False(ws["cat"].Author(Discussion, delete, ws.Tick()).Ok);

        var forged = Forge.Seal(ws["cat"], ws.Member("cat"), Discussion, delete, ws.Tick());

        Assert.Contains("not permitted", AssertEveryReplica(ws, forged, ReceiveStatus.Rejected, "ann", "bob", "cat"), StringComparison.Ordinal);
        Assert.All(ws.Replicas.Values, r => Assert.False(r.State.EntriesOf(Discussion)!.Find(entry.Id)!.Deleted));
        AssertStillLive(ws, "bob");
    }

    [Fact]
    public void Participant_uninviting_should_be_rejected_by_every_replica()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant));
        var cat = ws.Member("cat");
        Assert.False(ws["bob"].Uninvite(cat.Id, ws.Tick()).Ok);
        // Wrapped correctly for exactly the remaining members, so only the permission is wrong.
        var key = EpochKeyring.NewKey();
        var keys = new[] { ws.Member("ann"), ws.Member("bob") }
            .Select(m => new WrappedKeyring(m.Id, KeyWrap.Wrap(key, m.Card.AgreementPublicKey, Invitation.KeyContext(ws["bob"].Id))))
            .OrderBy(k => k.Recipient)
            .ToList();

        var grant = new KeyGrant(new byte[KeyGrant.CommitmentSize], keys);
        var forged = Forge.Seal(ws["bob"], ws.Member("bob"), ToolId.Workspace, new RemoveMember(cat.Id), ws.Tick(), grant);

        Assert.Contains("uninvite", AssertEveryReplica(ws, forged, ReceiveStatus.Rejected, "ann", "cat", "bob"), StringComparison.Ordinal);
        Assert.All(ws.Replicas.Values, r => Assert.True(r.State.Current.IsMember(cat.Id)));
        AssertStillLive(ws, "cat");
    }

    [Fact]
    public void Participant_editing_another_members_entry_should_be_rejected_where_a_manager_is_accepted()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant));
        var annEntry = Must(ws["ann"].Author(Discussion, Post("ann's"), ws.Tick()));
        var catEntry = Must(ws["cat"].Author(Discussion, Post("cat's"), ws.Tick()));
        ws.SyncAll();

        var edit = new EditEntry(annEntry.Id, EntryFields.Of(("text", "bob was here")));
        Assert.False(ws["bob"].Author(Discussion, edit, ws.Tick()).Ok);
        var forged = Forge.Seal(ws["bob"], ws.Member("bob"), Discussion, edit, ws.Tick());
        Assert.Contains("not permitted to edit", AssertEveryReplica(ws, forged, ReceiveStatus.Rejected, "ann", "cat", "bob"), StringComparison.Ordinal);

        var managerEdit = Must(ws["ann"].Author(Discussion, new EditEntry(catEntry.Id, EntryFields.Of(("text", "moderated"))), ws.Tick()));
        var outcomes = new[] { "bob", "cat" }.Select(n => ws[n].Receive(Forge.OverTheWire(managerEdit))[0].Status);
        Assert.All(outcomes, s => Assert.Equal(ReceiveStatus.Applied, s));

        AssertConverged(ws);
        Assert.All(ws.Replicas.Values, r =>
        {
            Assert.Equal("ann's", r.State.EntriesOf(Discussion)!.Find(annEntry.Id)!["text"]);
            Assert.Equal("moderated", r.State.EntriesOf(Discussion)!.Find(catEntry.Id)!["text"]);
        });
    }

    // ---- membership -------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Removed_members_delta_after_its_removal_should_be_rejected_by_every_replica(bool holdsTheNewKey)
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("xav", Role.Participant));
        var oldEpoch = ws["ann"].State.Current.Epoch;
        var removal = Must(ws["ann"].Uninvite(ws.Member("xav").Id, ws.Tick()));
        ws.SyncAll();
        Assert.True(ws["xav"].State.IsApplied(removal.Id));
        Assert.False(ws["xav"].IsMember);
        var xav = ws.Member("xav");
        Assert.False(ws["xav"].Author(Discussion, Post("am I still here?"), ws.Tick()).Ok);

        var header = Forge.NextHeader(ws["xav"], xav, Discussion, OpKind.CreateEntry, ws.Tick());
        Assert.Contains(removal.Id, header.Dependencies);
        // Either the old key it still holds, or (worse) the new key obtained from a member's device.
        using var keys = Forge.CopyOf(holdsTheNewKey ? ws["ann"].Keyring : ws["xav"].Keyring, ws["ann"].Id);
        if (!holdsTheNewKey) header = header with { Epoch = oldEpoch };
        var late = DeltaCrypto.Seal(header, Post("am I still here?"), keys, xav.Device.Signing);

        var reason = AssertEveryReplica(ws, late, ReceiveStatus.Rejected, "ann", "bob");
        Assert.Contains(holdsTheNewKey ? "not a member" : "stale key epoch", reason, StringComparison.Ordinal);
        AssertStillLive(ws, "bob");
    }

    // ---- time -------------------------------------------------------------------------------

    [Theory]
    [InlineData("same time as a listed dependency")]
    [InlineData("before a listed dependency")]
    [InlineData("before the author's previous delta")]
    public void Delta_whose_time_is_not_after_its_dependencies_should_be_rejected_by_every_replica(string when)
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        var bobsFirst = Must(ws["bob"].Author(Discussion, Post("first"), ws.Tick()));
        ws.SyncAll();
        var annsPost = Must(ws["ann"].Author(Discussion, Post("later"), ws.Tick()));
        ws.SyncAll();

        var bob = ws.Member("bob");
        var header = Forge.NextHeader(ws["bob"], bob, Discussion, OpKind.CreateEntry, ws.Tick());
        Assert.Equal(new[] { annsPost.Id }, header.Dependencies);
        Assert.Equal(bobsFirst.Id, header.Previous);
        header = when switch
        {
            "same time as a listed dependency" => header with { Time = annsPost.Header.Time },
            "before a listed dependency" => header with { Time = new HlcTimestamp(annsPost.Header.Time.Packed - 1) },
            _ => header with { Dependencies = [], Time = new HlcTimestamp(bobsFirst.Header.Time.Packed - 1) },
        };
        var early = DeltaCrypto.Seal(header, Post("back in time"), ws["bob"].Keyring, bob.Device.Signing);

        Assert.Contains("time", AssertEveryReplica(ws, early, ReceiveStatus.Rejected, "ann", "cat", "bob"), StringComparison.Ordinal);
        AssertConverged(ws);
    }
}

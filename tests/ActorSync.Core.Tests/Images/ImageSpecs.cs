using System.Security.Cryptography;
using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Rules;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Images;

/// <summary>
/// Replica images (Replica.Image.cs), on seeded random workloads with real keys: a local image
/// brings back the replica exactly, and the copy then checks every later delta as the original
/// does; a transfer image starts an invitee at its inviter's state, and the inviter's retained log
/// is adopted, never applied twice.
/// </summary>
public class ImageSpecs
{
    public static TheoryData<int> Seeds => [1, 2, 3, 5, 8, 13, 21, 34];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Local_image_should_restore_every_replica_exactly_at_any_point_of_a_workload(int seed)
    {
        using var net = new ImageNetwork(seed, members: 4);
        for (var phase = 0; phase < 3; phase++)
        {
            // Mid-run, not healed: rejections, parked deltas, deltas in flight.
            net.Run(40);
            foreach (var node in net.Nodes)
            {
                var original = node.Replica;
                var image = original.WriteImage(ImageLog.Local);
                using var restored = Replica.FromImage(image, node.Member.Account, node.Member.Device, ReplicaAssert.KeysOf(original), node.Chunks.Copy());
                ReplicaAssert.Same(original, restored, $"seed {seed} phase {phase} {node.Name}");
                Assert.Equal(image, restored.WriteImage(ImageLog.Local));
            }
        }
        Assert.Contains(net.Nodes, n => n.Replica.Entries.Any(e => e.Stored is not null));
        Assert.Contains(net.Nodes, n => n.Replica.Entries.Any(e => e.Header.Kind == OpKind.StoreChunk && e.InMemory is not null));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Local_image_should_check_later_and_late_concurrent_deltas_exactly_like_the_original(int seed)
    {
        using var net = new ImageNetwork(seed, members: 4 + seed % 2);
        net.Protected.Add("m0");
        net.Run(70);
        net.Heal();

        // A member cut off from the others keeps writing: its deltas arrive late, concurrent with all that follows.
        var late = net.ActiveMembers().Select(r => r.Name).Where(n => n != "m0").OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (late.Count > 0) net.Isolated = late[net.Random.Next(late.Count)];
        net.Run(60);
        net.Heal();

        var node = net.NodeOf("m0");
        var original = node.Replica;
        Assert.Equal(0, original.BufferedCount);
        var image = original.WriteImage(ImageLog.Local);
        using var restored = Replica.FromImage(image, node.Member.Account, node.Member.Device, ReplicaAssert.KeysOf(original), node.Chunks.Copy());
        ReplicaAssert.Same(original, restored, $"seed {seed} restored");
        Assert.Equal(image, restored.WriteImage(ImageLog.Local));
        Assert.Contains(restored.Entries, e => e.Stored is not null);

        // From here the original and its copy only observe: both get the same deltas, late ones included.
        net.Observers.Add("m0");
        net.Isolated = null;
        var held = net.Held.Count;
        net.ReleaseHeld();
        net.Run(60);
        net.Heal();
        var feed = net.ShuffledFeed();
        Assert.True(feed.Count > held);
        var byOriginal = ReplicaAssert.Deliver(original, feed);
        var byRestored = ReplicaAssert.Deliver(restored, feed);
        Assert.Equal(byOriginal, byRestored);
        net.CatchUp(original);
        net.CatchUp(restored);
        ReplicaAssert.Same(original, restored, $"seed {seed} after the feed");
        Assert.Equal(original.WriteImage(ImageLog.Local), restored.WriteImage(ImageLog.Local));
        if (held > 0) Assert.Contains(byOriginal, o => o.Status is ReceiveStatus.Applied or ReceiveStatus.Rejected);

        // Both caught up with the members in the traffic.
        var others = net.ActiveMembers(original);
        Assert.All(others, r => Assert.Equal(r.State.StateHash(), restored.State.StateHash()));

        // The copy takes over the device: its own sequence goes on, and the others accept what it authors.
        net.Observers.Clear();
        var ownBefore = restored.State.Applied[restored.Device];
        var result = restored.Author(ImageNetwork.Chat, new CreateEntry(EntryFields.Of(("text", "back from an image"))), net.Tick());
        if (!result.Ok) result = restored.Rekey(net.Tick());
        Assert.True(result.Ok, result.Rejection);
        Assert.Equal(Enumerable.Range(1, result.Deltas.Count).Select(i => ownBefore + (ulong)i), result.Deltas.Select(d => d.Id.Seq));
        Assert.All(result.Deltas, d => Assert.True(d.Header.Time > original.State.TimeOf(original.Heads.Max())));
        foreach (var other in others)
            Assert.All(ReplicaAssert.Deliver(other, result.Deltas), o => Assert.Equal(ReceiveStatus.Applied, o.Status));
        Assert.All(others, r => Assert.Equal(restored.State.StateHash(), r.State.StateHash()));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Transfer_image_should_start_an_invitee_at_its_inviters_state_and_adopt_the_retained_log(int seed)
    {
        using var net = new ImageNetwork(seed, members: 4);
        net.Protected.Add("m0");
        net.Run(90);
        net.Heal();
        var inviter = net["m0"];
        using var invitee = new TestMember("newcomer");
        var invite = inviter.Invite(invitee.Card, (Role)(1 + seed % 3), net.Tick(), out var invitation);
        Assert.True(invite.Ok, invite.Rejection);
        net.Heal();
        Assert.All(net.ActiveMembers(), r => Assert.Equal((0, 0), (r.ParkedCount, r.BufferedCount)));

        var pruned = inviter.Prune(_ => true);
        Assert.True(pruned > 0);
        var transfer = inviter.WriteImage(ImageLog.Transfer);
        var keyring = new EpochKeyring(inviter.Id);
        keyring.Import(KeyWrap.Unwrap(invitation!.WrappedKeyring, invitee.Account.Agreement, Invitation.KeyContext(inviter.Id)));
        var store = new CopyableChunkStore();
        using var started = Replica.FromImage(transfer, invitee.Account, invitee.Device, keyring, store);

        Assert.Equal(inviter.State.StateHash(), started.State.StateHash());
        Assert.Equal(inviter.Seen, started.Seen);
        Assert.Equal(inviter.Heads.ToList(), started.Heads.ToList());
        Assert.Equal(inviter.Rejected.OrderBy(r => r.Key).ToList(), started.Rejected.OrderBy(r => r.Key).ToList());
        Assert.Equal(inviter.PrunedMax, started.PrunedMax);
        Assert.True(started.IsMember);
        Assert.Equal(0, started.LogCount);
        var retained = inviter.Entries.Select(e => e.Id).ToHashSet();
        Assert.True(retained.SetEquals(started.Adoptable));

        // Forgeries under adoptable ids are not adopted: a bad signature, another device's signature, a changed payload.
        using var stranger = new TestMember("stranger");
        var random = new Random(seed);
        var log = inviter.Log.ToList();
        foreach (var genuine in log.OrderBy(_ => random.Next()).Take(6))
        {
            Assert.Equal(OpenFailure.None, DeltaCrypto.TryDecrypt(genuine, inviter.Keyring, out var op));
            var forgeries = new List<SealedDelta>
            {
                Forge.Tampered(genuine, genuine.Bytes.Length - 1),
                Forge.Tampered(genuine, genuine.Bytes.Length - Signing.SignatureSize - 1),
                DeltaCrypto.Seal(genuine.Header, op!, inviter.Keyring, stranger.Device.Signing),
            };
            foreach (var forged in forgeries)
            {
                var outcome = started.Receive(forged);
                Assert.Equal(ReceiveStatus.Dropped, Assert.Single(outcome).Status);
                Assert.Contains(genuine.Id, started.Adoptable);
                Assert.Null(started.Logged(genuine.Id));
            }
        }

        // The retained log, in any order and with duplicates: kept once each, never applied again.
        var hash = started.State.StateHash();
        var seen = started.Seen;
        var delivery = log.Concat(log.Where(_ => random.Next(3) == 0)).OrderBy(_ => random.Next()).ToList();
        var first = new HashSet<DeltaId>();
        foreach (var d in delivery)
        {
            var outcome = Assert.Single(started.Receive(Forge.OverTheWire(d)));
            if (first.Add(d.Id)) Assert.True(ReplicaAssert.Kept(outcome.Status), $"{d.Id}: {outcome.Status} {outcome.Reason}");
            else Assert.Equal(ReceiveStatus.Duplicate, outcome.Status);
            Assert.Equal(hash, started.State.StateHash());
        }
        Assert.Empty(started.Adoptable);
        Assert.Equal(seen, started.Seen);
        Assert.Equal(inviter.LogCount, started.LogCount);
        Assert.True(retained.SetEquals(started.Entries.Select(e => e.Id)));
        foreach (var e in inviter.Entries)
            Assert.Equal(inviter.BytesOf(e), started.BytesOf(started.Logged(e.Id)!));
        // File content came with the log: every chunk the inviter can read, the invitee can.
        var files = inviter.State.FilesOf(ImageNetwork.Files)!;
        foreach (var chunk in log.Where(d => d.Header.Kind == OpKind.StoreChunk))
        {
            Assert.Equal(OpenFailure.None, DeltaCrypto.TryDecrypt(chunk, inviter.Keyring, out var op));
            var hashOfData = SHA256.HashData(((StoreChunk)op!).Data);
            Assert.Equal(inviter.ReadChunk(ImageNetwork.Files, hashOfData), started.ReadChunk(ImageNetwork.Files, hashOfData));
        }
        Assert.NotNull(files);

        // The invitee writes (its device's own sequence starts at 1) and converges with everyone on what follows.
        net.Add("newcomer", invitee, started, store);
        net.Protected.Add("newcomer");
        var own = started.Author(ImageNetwork.Chat, new CreateEntry(EntryFields.Of(("text", "hello from an image"))), net.Tick());
        if (!own.Ok) own = started.Rekey(net.Tick());
        Assert.True(own.Ok, own.Rejection);
        Assert.Equal(1UL, own.Deltas[0].Id.Seq);
        foreach (var other in net.ActiveMembers().Where(r => r != started))
            Assert.All(ReplicaAssert.Deliver(other, own.Deltas), o => Assert.Equal(ReceiveStatus.Applied, o.Status));
        net.Run(60);
        net.Heal();
        var active = net.ActiveMembers();
        Assert.Contains(started, active);
        Assert.Single(active.Select(r => r.State.StateHash()).Distinct());
        Assert.All(active, r => Assert.Equal(active[0].State.Applied, r.State.Applied));
    }
}

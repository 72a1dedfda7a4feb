using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Rules;
using Xunit;

namespace ActorSync.Core.Tests.Images;

/// <summary>
/// Log pruning (Replica.Prune.cs) on seeded random workloads: pruning changes nothing a member can
/// see or any rule decides; administrative deltas and file content stay in the log; a pruned
/// delta coming back is a duplicate; and a late delta concurrent with pruned ones is checked on a
/// pruned replica exactly as on an unpruned one.
/// </summary>
public class PruneSpecs
{
    public static TheoryData<int> Seeds => [1, 2, 3, 5, 8, 13, 21, 34];

    /// <summary>
    /// An unpruned copy of a replica built without images: a fresh replica of the same account and
    /// device, with the same keys, fed the original's log in its order and then the deltas it rejected.
    /// </summary>
    private static Replica Replay(ImageNetwork net, ImageNetwork.Node node)
    {
        var original = node.Replica;
        var copy = new Replica(original.Id, node.Member.Account, node.Member.Device, ReplicaAssert.KeysOf(original), chunks: new CopyableChunkStore());
        foreach (var d in original.Log)
            Assert.Equal(ReceiveStatus.Applied, copy.Receive(Forge.OverTheWire(d))[0].Status);
        foreach (var d in net.Authored.Where(d => original.Rejected.ContainsKey(d.Id)))
            Assert.Equal(ReceiveStatus.Rejected, copy.Receive(Forge.OverTheWire(d))[0].Status);
        Assert.Equal(original.Rejected.OrderBy(r => r.Key).ToList(), copy.Rejected.OrderBy(r => r.Key).ToList());
        return copy;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Pruning_should_change_no_state_keep_admin_and_content_and_answer_pruned_deltas_as_duplicates(int seed)
    {
        using var net = new ImageNetwork(seed, members: 4);
        net.Protected.Add("m0");
        net.Run(90);
        net.Heal();
        var replica = net["m0"];
        var before = replica.Entries.ToList();
        var log = replica.Log.ToList();
        var hash = replica.State.StateHash();
        var seen = replica.Seen;
        var heads = replica.Heads.ToList();

        var count = replica.Prune(_ => true);

        var prunable = before.Where(e => Replica.Prunable(e.Header.Kind)).ToList();
        Assert.Equal(prunable.Count, count);
        Assert.True(count > 0);
        Assert.Equal(hash, replica.State.StateHash());
        Assert.Equal(seen, replica.Seen);
        Assert.Equal(heads, replica.Heads.ToList());
        // Kept: every administrative and content delta, in the order they were applied; nothing else.
        var kept = before.Where(e => !Replica.Prunable(e.Header.Kind)).Select(e => e.Id).ToList();
        Assert.Equal(kept, replica.Entries.Select(e => e.Id).ToList());
        Assert.Contains(replica.Entries, e => e.Header.Kind == OpKind.StoreChunk);
        Assert.All(replica.Entries, e => Assert.True(e.Header.Kind < OpKind.CreateEntry || e.Header.Kind == OpKind.StoreChunk, $"{e.Header.Kind} kept"));
        Assert.All(prunable, e => Assert.Null(replica.Logged(e.Id)));
        // Pruned max: per device, the highest sequence pruned.
        var expectedMax = VersionVector.From(prunable.GroupBy(e => e.Id.Device).Select(g => KeyValuePair.Create(g.Key, g.Max(e => e.Id.Seq))));
        Assert.Equal(expectedMax, replica.PrunedMax);
        Assert.True(replica.LacksPruned(VersionVector.Empty));
        Assert.False(replica.LacksPruned(replica.Seen));
        foreach (var node in net.Nodes)
        {
            var theirs = node.Replica.Seen;
            Assert.Equal(expectedMax.Entries.Any(e => theirs[e.Device] < e.Seq), replica.LacksPruned(theirs));
        }
        Assert.DoesNotContain(replica.MissingFrom(VersionVector.Empty), d => Replica.Prunable(d.Header.Kind));
        // Content is still readable.
        var files = replica.State.FilesOf(ImageNetwork.Files)!;
        foreach (var view in files.View())
        foreach (var chunk in view.Version.Chunks)
            Assert.NotNull(replica.ReadChunk(ImageNetwork.Files, chunk.Hash));

        // Every delta again, pruned or kept, in any order and twice: duplicates, nothing moves.
        var random = new Random(seed);
        foreach (var d in log.Concat(log).OrderBy(_ => random.Next()))
        {
            var outcome = Assert.Single(replica.Receive(Forge.OverTheWire(d)));
            Assert.Equal(ReceiveStatus.Duplicate, outcome.Status);
        }
        Assert.Equal(hash, replica.State.StateHash());
        Assert.Equal(kept.Count, replica.LogCount);
        Assert.Equal(seen, replica.Seen);

        // Nothing left to prune; and a local image of the pruned replica keeps it pruned.
        Assert.Equal(0, replica.Prune(_ => true));
        var node0 = net.NodeOf("m0");
        var image = replica.WriteImage(ImageLog.Local);
        using var restored = Replica.FromImage(image, node0.Member.Account, node0.Member.Device, ReplicaAssert.KeysOf(replica), node0.Chunks.Copy());
        ReplicaAssert.Same(replica, restored, $"seed {seed} pruned image");
        Assert.Equal(image, restored.WriteImage(ImageLog.Local));
        Assert.True(restored.LacksPruned(VersionVector.Empty));
        Assert.False(restored.LacksPruned(restored.Seen));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Pruning_should_only_drop_what_the_predicate_names(int seed)
    {
        using var net = new ImageNetwork(seed, members: 3);
        net.Run(60);
        net.Heal();
        var replica = net["m0"];
        var before = replica.Entries.ToList();
        var random = new Random(seed);
        var chosen = before.Where(_ => random.Next(2) == 0).Select(e => e.Id).ToHashSet();
        var count = replica.Prune(chosen.Contains);
        var dropped = before.Where(e => Replica.Prunable(e.Header.Kind) && chosen.Contains(e.Id)).Select(e => e.Id).ToList();
        Assert.Equal(dropped.Count, count);
        Assert.Equal(before.Select(e => e.Id).Except(dropped).ToList(), replica.Entries.Select(e => e.Id).ToList());
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_late_delta_concurrent_with_pruned_ones_should_be_checked_as_on_an_unpruned_replica(int seed)
    {
        using var net = new ImageNetwork(seed, members: 4 + seed % 2);
        net.Protected.Add("m0");
        net.Protected.Add("m1"); // someone is left to be cut off
        net.Run(60);
        net.Heal();

        // A member is cut off and keeps writing; meanwhile the others edit, delete, change roles and keys.
        var late = net.ActiveMembers().Select(r => r.Name).Where(n => n != "m0").OrderBy(n => n, StringComparer.Ordinal).ToList();
        Assert.NotEmpty(late);
        var isolated = late[net.Random.Next(late.Count)];
        net.Isolated = isolated;
        net.Run(70);
        net.Heal();

        var node = net.NodeOf("m0");
        var pruned = node.Replica;
        using var unpruned = Replay(net, node);
        Assert.Equal(pruned.State.StateHash(), unpruned.State.StateHash());
        // Prune even what the isolated member never saw: the late deltas are concurrent with pruned ones.
        var lackedByLate = pruned.Entries.Count(e => Replica.Prunable(e.Header.Kind) && !net[isolated].State.IsApplied(e.Id));
        Assert.True(pruned.Prune(_ => true) > 0);
        Assert.Equal(lackedByLate > 0, pruned.LacksPruned(net[isolated].Seen));
        Assert.Equal(unpruned.State.StateHash(), pruned.State.StateHash());

        net.Observers.Add("m0");
        net.Isolated = null;
        net.ReleaseHeld();
        net.Run(60);
        net.Heal();
        var feed = net.ShuffledFeed();
        var onPruned = ReplicaAssert.Deliver(pruned, feed);
        var onUnpruned = ReplicaAssert.Deliver(unpruned, feed);
        Assert.Equal(onUnpruned, onPruned);
        net.CatchUp(pruned);
        net.CatchUp(unpruned);
        Assert.Equal(unpruned.State.StateHash(), pruned.State.StateHash());
        Assert.Equal(unpruned.Seen, pruned.Seen);
        Assert.Equal(unpruned.Heads.ToList(), pruned.Heads.ToList());
        Assert.Equal(unpruned.Rejected.OrderBy(r => r.Key).ToList(), pruned.Rejected.OrderBy(r => r.Key).ToList());
        Assert.Equal(unpruned.ParkedCount, pruned.ParkedCount);
        // What arrived after the pruning is in the log as usual.
        Assert.Equal(unpruned.Entries.Where(e => !Replica.Prunable(e.Header.Kind) || pruned.Logged(e.Id) is not null).Select(e => e.Id),
            pruned.Entries.Select(e => e.Id));
        // Members the pruned replica can still serve (they lack nothing it pruned; the others would need an image) converge with it.
        // Not those left without the key of an epoch opened concurrently with their invitation, whose deltas stay parked
        // (a key-distribution gap unrelated to pruning: no later grant wraps that side epoch's key for them; seed 21).
        Assert.All(net.ActiveMembers(pruned).Where(r => !pruned.LacksPruned(r.Seen) && r.ParkedCount == 0),
            r => Assert.Equal(r.State.StateHash(), pruned.State.StateHash()));
    }
}

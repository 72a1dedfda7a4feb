using ActorSync.Benchmarks.Support;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Replication;
using BenchmarkDotNet.Attributes;

namespace ActorSync.Benchmarks;

/// <summary>
/// Recovery of a 100,000-delta workspace (chat messages from two members) in the replica alone:
/// from its image (what a snapshot holds; <see cref="Replica.FromImage"/>) against replaying its
/// journal (<see cref="Replica.Recover"/>, signatures not checked again), and writing the image.
/// The image's size is printed at setup (the snapshot stores it sealed: 60 bytes more).
/// </summary>
[MemoryDiagnoser]
public class ImageBenchmarks
{
    public const int Deltas = 100_000;

    private BenchWorkspace _ws = null!;
    private SealedDelta[] _log = [];
    private byte[] _local = [];
    private byte[] _keys = [];

    /// <summary>Whether the log was pruned first (everything but administrative deltas, as when every member holds it).</summary>
    [Params(false, true)]
    public bool Pruned { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ws = new BenchWorkspace();
        var (ann, bob) = (_ws.AnnReplica, _ws.BobReplica);
        for (var i = 0; i < Deltas / 2; i++)
        {
            BenchWorkspace.Deliver([_ws.Author(ann, SampleOps.Chat, SampleOps.ChatMessage(i))], bob);
            BenchWorkspace.Deliver([_ws.Author(bob, SampleOps.Chat, SampleOps.ChatMessage(i))], ann);
        }
        _log = ann.Log.ToArray();
        if (Pruned) ann.Prune(_ => true);
        _local = ann.WriteImage(ImageLog.Local);
        _keys = ann.Keyring.Export();
        Console.WriteLine($"// image of {ann.State.AppliedCount} deltas ({ann.LogCount} in the log): {_local.Length:N0} bytes");
    }

    [Benchmark]
    public int FromImage()
    {
        using var replica = Replica.FromImage(_local, _ws.Ann.Account, _ws.Ann.Device, Keyring());
        return replica.State.AppliedCount;
    }

    [Benchmark]
    public int WriteImage() => _ws.AnnReplica.WriteImage(ImageLog.Local).Length;

    [Benchmark(Baseline = true)]
    public int ReplayJournal()
    {
        using var replica = new Replica(_ws.AnnReplica.Id, _ws.Ann.Account, _ws.Ann.Device, Keyring());
        foreach (var delta in _log) replica.Recover(delta);
        return replica.State.AppliedCount;
    }

    private EpochKeyring Keyring()
    {
        var ring = new EpochKeyring(_ws.AnnReplica.Id);
        ring.Import(_keys);
        return ring;
    }
}

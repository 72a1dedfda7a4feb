using System.Diagnostics;

namespace ActorSync.Cli.Bench;

/// <summary>Files from one peer to another: many small ones, and one large one; timed until the other peer holds every byte.</summary>
internal static class FilesScenario
{
    public static async Task<IReadOnlyList<BenchMetric>> RunAsync(BenchScale scale, Action<string> progress, CancellationToken ct)
    {
        await using var world = BenchWorld.Create();
        var peers = await world.StartPeersAsync(2, ct);
        await BenchWorld.ExchangeCardsAsync(peers, ct);
        var ws = await BenchWorld.WorkspaceAsync(peers, "files", ct);
        var (ann, bob) = (peers[0], peers[1]);
        progress("two peers linked, workspace joined");

        var count = scale.Of(1000, 50);
        var content = new byte[1024];
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (i, token) =>
            {
                var bytes = (byte[])content.Clone();
                BitConverter.TryWriteBytes(bytes, i);
                using var stream = new MemoryStream(bytes);
                await ann.PutFileAsync(ws, $"small/{i:0000}.bin", stream, token);
            });
        var smallStored = clock.Elapsed;
        await BenchWorld.Until(async () => (await bob.FilesAsync(ws, ct)).Count(f => f.ContentComplete && f.Name.StartsWith("small/", StringComparison.Ordinal)) >= count,
            "every small file at the other peer", ct);
        var small = clock.Elapsed;
        progress($"{count} files of 1 KiB stored at the author in {smallStored.TotalSeconds:F2} s, at the other peer after {small.TotalSeconds:F2} s");

        var megabytes = scale.Of(100, 8);
        var large = new byte[megabytes * 1024 * 1024];
        Random.Shared.NextBytes(large);
        clock.Restart();
        using (var stream = new MemoryStream(large)) await ann.PutFileAsync(ws, "large.bin", stream, ct);
        var stored = clock.Elapsed;
        await BenchWorld.Until(async () => (await bob.FilesAsync(ws, ct)).Any(f => f.Name == "large.bin" && f.ContentComplete), "the large file at the other peer", ct,
            pauseMs: 50);
        var transferred = clock.Elapsed;
        progress($"{megabytes} MiB stored at the author in {stored.TotalSeconds:F2} s, at the other peer after {transferred.TotalSeconds:F2} s");
        return
        [
            new("files", $"{count} files of 1 KiB, peer to peer", small.TotalSeconds, "s", count >= 1000 ? 0.5 : null),
            new("files", $"one {megabytes} MiB file, peer to peer", large.Length / 1e6 / transferred.TotalSeconds, "MB/s", megabytes >= 100 ? 300 : null, "higher"),
            new("files", $"one {megabytes} MiB file, stored at the author", large.Length / 1e6 / stored.TotalSeconds, "MB/s", Better: "higher"),
        ];
    }
}

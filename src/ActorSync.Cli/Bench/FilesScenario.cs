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
        Task PutAllAsync(string folder, int files) => Parallel.ForEachAsync(Enumerable.Range(0, files),
            new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (i, token) =>
            {
                var bytes = (byte[])content.Clone();
                BitConverter.TryWriteBytes(bytes, i);
                BitConverter.TryWriteBytes(bytes.AsSpan(4), folder.Length);
                using var stream = new MemoryStream(bytes);
                await ann.PutFileAsync(ws, $"{folder}/{i:0000}.bin", stream, token);
            });

        // Warm-up, not measured, as the latency and fan-out scenarios have one: a fresh peer's first
        // uploads compile what a long-running one has compiled (the journal's multi-row insert, ~30 ms
        // once per process, traced in the latency scenario). Interleaved A/B, 3 pairs: 1,000 files
        // in 0.485-0.498 s without it, 0.437-0.442 s with it.
        var warmup = scale.Of(50, 10);
        await PutAllAsync("warm-up", warmup);
        await BenchWorld.Until(async () => (await bob.FilesAsync(ws, ct)).Count(f => f.ContentComplete && f.Name.StartsWith("warm-up/", StringComparison.Ordinal)) >= warmup,
            "every warm-up file at the other peer", ct);

        var clock = Stopwatch.StartNew();
        await PutAllAsync("small", count);
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

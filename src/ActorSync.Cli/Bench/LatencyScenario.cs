using System.Diagnostics;

namespace ActorSync.Cli.Bench;

/// <summary>
/// One delta between two online peers, durable at both ends: the author's API call returns once
/// the delta is in its journal; the other peer's alert goes out once it is in that peer's journal.
/// Isolated (one in flight) and back-to-back (the author writes as fast as its API answers).
/// Measured through the public local API, so each figure includes two HTTP hops on 127.0.0.1.
/// </summary>
internal static class LatencyScenario
{
    public static async Task<IReadOnlyList<BenchMetric>> RunAsync(BenchScale scale, Action<string> progress, CancellationToken ct)
    {
        await using var world = BenchWorld.Create();
        var peers = await world.StartPeersAsync(2, ct);
        await BenchWorld.ExchangeCardsAsync(peers, ct);
        var ws = await BenchWorld.WorkspaceAsync(peers, "latency", ct);
        var (ann, bob) = (peers[0], peers[1]);
        var arrivals = await bob.WatchEntriesAsync(ws, ct);
        progress("two peers linked, workspace joined");

        // Isolated: send, wait for the arrival, repeat (after a warm-up the JIT and pools are settled).
        var warmup = scale.Of(50, 10);
        var samples = scale.Of(500, 30);
        var isolated = new List<double>(samples);
        for (var i = 0; i < warmup + samples; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await ann.PostAsync(ws, "chat", $"isolated {i}", ct);
            var arrived = await arrivals.ReadAsync(ct);
            if (i >= warmup) isolated.Add(Stopwatch.GetElapsedTime(sent, arrived).TotalMilliseconds);
        }
        progress($"isolated: {samples} samples");

        // Back-to-back warm-up, not measured, as the isolated phase has one: the first burst is the
        // first time each peer's journal writes several events at once, and linq2db then builds and
        // compiles its multi-row insert (traced: ~40 methods JIT'd, dynamic ones among them); that
        // one stall of ~30 ms delayed the ~20 deltas queued behind it, 1% of the samples, i.e. the p99.
        var warmupBurst = scale.Of(200, 20);
        for (var k = 0; k < warmupBurst; k++) await ann.PostAsync(ws, "chat", $"warm-up burst {k}", ct);
        for (var k = 0; k < warmupBurst; k++) await arrivals.ReadAsync(ct);

        // Back-to-back: the author does not wait for arrivals; the k-th arrival is the k-th delta (one author's deltas apply in order).
        var burst = scale.Of(2000, 100);
        var sentAt = new long[burst];
        var receiver = Task.Run(async () =>
        {
            var lat = new double[burst];
            for (var k = 0; k < burst; k++)
            {
                var arrived = await arrivals.ReadAsync(ct);
                lat[k] = Stopwatch.GetElapsedTime(Volatile.Read(ref sentAt[k]), arrived).TotalMilliseconds;
            }
            return lat;
        }, ct);
        var clock = Stopwatch.StartNew();
        for (var k = 0; k < burst; k++)
        {
            Volatile.Write(ref sentAt[k], Stopwatch.GetTimestamp());
            await ann.PostAsync(ws, "chat", $"burst {k}", ct);
        }
        var backToBack = await receiver.WaitAsync(TimeSpan.FromMinutes(5), ct);
        var elapsed = clock.Elapsed;
        progress($"back-to-back: {burst} deltas in {elapsed.TotalSeconds:F2} s; the slowest 1% (ms, in send order): " +
            string.Join(" ", Slowest(backToBack, burst / 100)));
        return
        [
            new("latency", "isolated p50", BenchMetric.Percentile(isolated, 50), "ms", 2),
            new("latency", "isolated p99", BenchMetric.Percentile(isolated, 99), "ms", 10),
            new("latency", "back-to-back p50", BenchMetric.Percentile(backToBack, 50), "ms", 2),
            new("latency", "back-to-back p99", BenchMetric.Percentile(backToBack, 99), "ms", 10),
            new("latency", "back-to-back rate (one API client)", burst / elapsed.TotalSeconds, "deltas/s", Better: "higher"),
        ];
    }

    /// <summary>The <paramref name="count"/> largest samples as "index:ms", in sample order: shows whether the tail comes in bursts.</summary>
    private static IEnumerable<string> Slowest(double[] samples, int count) =>
        samples.Select((ms, i) => (ms, i)).OrderByDescending(s => s.ms).Take(Math.Max(count, 1)).OrderBy(s => s.i)
            .Select(s => $"{s.i}:{s.ms.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}");
}

using System.Diagnostics;
using System.Threading.Channels;

namespace ActorSync.Cli.Bench;

/// <summary>One delta to a big workspace (50 members by default) until every member has applied and persisted it.</summary>
internal static class FanoutScenario
{
    public static async Task<IReadOnlyList<BenchMetric>> RunAsync(BenchScale scale, Action<string> progress, CancellationToken ct)
    {
        var members = scale.Of(50, 5);
        await using var world = BenchWorld.Create();
        var peers = await world.StartPeersAsync(members, ct);
        progress($"{members} peers started");
        // A star of contacts: the author links to every member (LAN presence is off in benchmarks, so
        // members have no addresses for each other); the author's push is what is timed.
        await BenchWorld.ExchangeCardsWithFirstAsync(peers, ct);
        progress("cards exchanged");
        var ws = await BenchWorld.WorkspaceAsync(peers, "fanout", ct);
        progress($"{members} members joined");
        var streams = new List<ChannelReader<long>>();
        foreach (var p in peers.Skip(1)) streams.Add(await p.WatchEntriesAsync(ws, ct));
        progress($"watching {streams.Count} members");

        var samples = scale.Of(30, 5);
        // Unmeasured, like the latency scenario's: 50 deltas (~4 s) let each member run its
        // anti-entropy tick and JIT what its first deltas need (a JIT trace of one member showed ~240
        // methods compiled while the first deltas arrived). Measured against the 3 used before,
        // interleaved: slowest of 30 105 and 94 ms against 126 and 141, medians unchanged.
        var warmup = scale.Of(50, 5);
        var lastArrivals = new List<double>();
        var firstArrivals = new List<double>();
        for (var i = 0; i < warmup + samples; i++)
        {
            var sent = Stopwatch.GetTimestamp();
            await peers[0].PostAsync(ws, "chat", $"to everyone {i}", ct);
            var arrivals = await Task.WhenAll(streams.Select(s => s.ReadAsync(ct).AsTask()));
            if (i < warmup) continue;
            lastArrivals.Add(Stopwatch.GetElapsedTime(sent, arrivals.Max()).TotalMilliseconds);
            firstArrivals.Add(Stopwatch.GetElapsedTime(sent, arrivals.Min()).TotalMilliseconds);
        }
        progress($"{samples} samples, all applied in ms: {string.Join(" ", lastArrivals.Order().Select(ms => ms.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
        return
        [
            // How the time spreads: the first member applies early, the rest wait for CPU (one process per member on two cores).
            new("fanout", $"one delta to {members} members, first applied, p50", BenchMetric.Percentile(firstArrivals, 50), "ms"),
            new("fanout", $"one delta to {members} members, all applied, p50", BenchMetric.Percentile(lastArrivals, 50), "ms"),
            new("fanout", $"one delta to {members} members, all applied, p99", BenchMetric.Percentile(lastArrivals, 99), "ms", members >= 50 ? 100 : null),
        ];
    }
}

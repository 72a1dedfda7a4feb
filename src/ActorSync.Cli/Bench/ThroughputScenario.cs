using System.Diagnostics;

namespace ActorSync.Cli.Bench;

/// <summary>
/// Sustained deltas into one workspace with three online members: every member writes through its
/// local API with several requests in flight; the figure is deltas per second from the first
/// write until every delta is persisted and applied at all three.
/// </summary>
internal static class ThroughputScenario
{
    public static async Task<IReadOnlyList<BenchMetric>> RunAsync(BenchScale scale, Action<string> progress, CancellationToken ct)
    {
        await using var world = BenchWorld.Create();
        var peers = await world.StartPeersAsync(3, ct);
        await BenchWorld.ExchangeCardsAsync(peers, ct);
        var ws = await BenchWorld.WorkspaceAsync(peers, "throughput", ct);
        var before = (await peers[0].ShowAsync(ws, ct)).Deltas;
        progress("three peers linked, workspace joined");

        var one = await MeasureAsync(peers, ws, scale.Of(3000, 300), 8, 1, ct);
        progress($"one entry per request: {one.Total} deltas applied everywhere in {one.Applied.TotalSeconds:F2} s");
        var batched = await MeasureAsync(peers, ws, scale.Of(20_000, 1000), 2, 100, ct);
        progress($"100 entries per request: {batched.Total} deltas applied everywhere in {batched.Applied.TotalSeconds:F2} s");
        return
        [
            new("throughput", "3 members, one entry per API request, applied everywhere", one.Total / one.Applied.TotalSeconds, "deltas/s", 15_000, "higher"),
            new("throughput", "3 members, 100 entries per API request, applied everywhere", batched.Total / batched.Applied.TotalSeconds, "deltas/s", 15_000,
                "higher"),
            new("throughput", "3 members, 100 entries per API request, accepted by the authors", batched.Total / batched.Written.TotalSeconds, "deltas/s",
                Better: "higher"),
        ];
    }

    /// <summary>Every peer writes <paramref name="perPeer"/> entries at once; timed until all three have applied them all.</summary>
    private static async Task<(int Total, TimeSpan Written, TimeSpan Applied)> MeasureAsync(IReadOnlyList<BenchPeer> peers, string ws, int perPeer,
        int inFlight, int perRequest, CancellationToken ct)
    {
        var before = (await peers[0].ShowAsync(ws, ct)).Deltas;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(peers.Select(peer => Parallel.ForEachAsync(Enumerable.Range(0, perPeer / perRequest),
            new ParallelOptions { MaxDegreeOfParallelism = inFlight, CancellationToken = ct },
            async (r, token) =>
            {
                if (perRequest == 1) await peer.PostAsync(ws, r % 2 == 0 ? "chat" : "discussion", $"{peer.Name} {r}", token);
                else await peer.PostManyAsync(ws, r % 2 == 0 ? "chat" : "discussion", Enumerable.Range(0, perRequest).Select(i => $"{peer.Name} {r}.{i}"), token);
            })));
        var written = clock.Elapsed;
        var total = perPeer / perRequest * perRequest * peers.Count;
        await BenchWorld.Until(async () =>
        {
            var shown = await Task.WhenAll(peers.Select(p => p.ShowAsync(ws, ct)));
            return shown.All(s => s.Deltas >= before + total);
        }, "every delta applied at all three", ct, pauseMs: 100);
        var applied = clock.Elapsed;
        await BenchWorld.ConvergedAsync(peers, ws, ct);
        return (total, written, applied);
    }
}

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

        var perPeer = scale.Of(10_000, 300);
        const int inFlight = 8;
        var clock = Stopwatch.StartNew();
        var writes = peers.Select(peer => Parallel.ForEachAsync(Enumerable.Range(0, perPeer),
            new ParallelOptions { MaxDegreeOfParallelism = inFlight, CancellationToken = ct },
            async (i, token) => await peer.PostAsync(ws, i % 2 == 0 ? "chat" : "discussion", $"{peer.Name} {i}", token))).ToList();
        await Task.WhenAll(writes);
        var written = clock.Elapsed;
        var total = perPeer * peers.Count;
        await BenchWorld.Until(async () =>
        {
            var shown = await Task.WhenAll(peers.Select(p => p.ShowAsync(ws, ct)));
            return shown.All(s => s.Deltas >= before + total);
        }, "every delta applied at all three", ct, pauseMs: 100);
        var applied = clock.Elapsed;
        await BenchWorld.ConvergedAsync(peers, ws, ct);
        progress($"{total} deltas written in {written.TotalSeconds:F2} s, applied everywhere after {applied.TotalSeconds:F2} s");
        return
        [
            new("throughput", "3 members, applied everywhere", total / applied.TotalSeconds, "deltas/s", 15_000, "higher"),
            new("throughput", "3 members, accepted by the authors' APIs", total / written.TotalSeconds, "deltas/s", Better: "higher"),
        ];
    }
}

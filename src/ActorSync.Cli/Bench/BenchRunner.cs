namespace ActorSync.Cli.Bench;

/// <summary>The scenarios of `actorsync bench`, by name, in the order they run when none is named.</summary>
internal static class BenchRunner
{
    public delegate Task<IReadOnlyList<BenchMetric>> Scenario(BenchScale scale, Action<string> progress, CancellationToken ct);

    public static IReadOnlyList<(string Name, string What, Scenario Run)> Scenarios { get; } =
    [
        ("latency", "one delta between two online peers, durable at both ends: isolated and back-to-back", LatencyScenario.RunAsync),
        ("throughput", "sustained deltas into one workspace with three online members", ThroughputScenario.RunAsync),
        ("fanout", "one delta to a 50-member workspace until all applied", FanoutScenario.RunAsync),
        ("files", "1,000 files of 1 KiB, and one 100 MiB file, from one peer to another", FilesScenario.RunAsync),
        ("catchup", "offline catch-up through the relay with the author offline (500 and 100,000 changes), then recovery", CatchUpScenario.RunAsync),
        ("relay", "envelopes durably accepted per second by one relay node; its memory with 1,000,000 buffered", RelayScenario.RunAsync),
        ("memory", "resident memory of an idle peer and of a peer with 1,000 workspaces", MemoryScenario.RunAsync),
    ];
}

namespace ActorSync.Cli.Bench;

/// <summary>Resident memory of a peer: idle with nothing in it, then holding 1,000 workspaces.</summary>
internal static class MemoryScenario
{
    public static async Task<IReadOnlyList<BenchMetric>> RunAsync(BenchScale scale, Action<string> progress, CancellationToken ct)
    {
        await using var world = BenchWorld.Create();
        var peer = (await world.StartPeersAsync(1, ct))[0];
        await Task.Delay(TimeSpan.FromSeconds(5), ct); // let start-up garbage be collected before reading RSS
        var idle = peer.Process.ResidentBytes() / (1024.0 * 1024);
        progress($"idle peer: {idle:F0} MiB");

        var count = scale.Of(1000, 50);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (i, token) => await peer.CreateWorkspaceAsync($"workspace {i}", token));
        await Task.Delay(TimeSpan.FromSeconds(5), ct);
        var loaded = peer.Process.ResidentBytes() / (1024.0 * 1024);
        progress($"{count} workspaces: {loaded:F0} MiB");
        return
        [
            new("memory", "idle peer", idle, "MiB", 80),
            new("memory", $"peer with {count} workspaces", loaded, "MiB", count >= 1000 ? 300 : null),
        ];
    }
}

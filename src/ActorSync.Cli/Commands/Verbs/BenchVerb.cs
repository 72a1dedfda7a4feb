using System.Diagnostics;
using System.Runtime.InteropServices;
using ActorSync.Cli.Bench;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>`actorsync bench`: end-to-end figures from real peer and relay processes on 127.0.0.1.</summary>
internal static class BenchVerb
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("bench", "[SCENARIO] [--quick] [--json]",
            "start real peer and relay processes on 127.0.0.1 and measure (" + string.Join(", ", BenchRunner.Scenarios.Select(s => s.Name))
            + "); prints a table, or JSON lines with --json; --quick runs small sizes to check the machinery",
            VerbShape.Of(0, 1, flags: ["quick", "json"]), Bench, NeedsHome: false),
    ];

    private static async Task<int> Bench(Invocation inv)
    {
        var name = inv.Args.OptionalPositional(0);
        var chosen = name is null ? BenchRunner.Scenarios : BenchRunner.Scenarios.Where(s => s.Name == name).ToList();
        if (chosen.Count == 0)
            throw new UsageException($"no benchmark scenario '{name}' (there are: {string.Join(", ", BenchRunner.Scenarios.Select(s => s.Name))})");
        var scale = new BenchScale(inv.Args.Flag("quick"));
        await inv.Err.WriteLineAsync($"actorsync bench on {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}"
            + (scale.Quick ? " (quick sizes: figures are not comparable to the targets)" : ""));
        var all = new List<BenchMetric>();
        var failed = 0;
        foreach (var (scenario, what, run) in chosen)
        {
            var clock = Stopwatch.StartNew();
            await inv.Err.WriteLineAsync($"[{scenario}] {what}");
            try
            {
                var metrics = await run(scale, line => inv.Err.WriteLine($"[{scenario}] {clock.Elapsed.TotalSeconds,6:F1} s  {line}"), inv.Ct);
                all.AddRange(metrics);
                if (inv.Json)
                    foreach (var m in metrics) inv.Out.WriteLine(m.ToJson());
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or CliException or HttpRequestException or IOException)
            {
                failed++;
                await inv.Err.WriteLineAsync($"[{scenario}] failed: {e.Message}");
            }
            await inv.Out.FlushAsync(inv.Ct);
        }
        if (!inv.Json)
        {
            inv.Out.WriteLine(TextTable.Format(["SCENARIO", "METRIC", "VALUE", "UNIT", "TARGET", "MET"],
                all.Select(m => (IReadOnlyList<string>)[m.Scenario, m.Metric, BenchMetric.Format(m.Value), m.Unit,
                    m.Target is { } t ? (m.Better == "lower" ? "<= " : ">= ") + BenchMetric.Format(t) : "-",
                    m.Met switch { true => "yes", false => "no", null => "-" }]).ToList()));
        }
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }
}

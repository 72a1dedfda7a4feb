using System.Globalization;
using ActorSync.Simulation.Running;
using ActorSync.Simulation.Scenarios;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>`actorsync sim`: seeded whole-network simulations with fault injection and invariant checks (ActorSync.Simulation).</summary>
internal static class SimVerb
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("sim", "SCENARIO|--random [--seed N] [--runs K] [--grpc] [--json] [--keep]",
            "run peers in this process on a simulated network with faults, then check convergence, no loss, confidentiality, integrity and " +
            "liveness; SCENARIO is a JSON file or a name under config/scenarios; --grpc runs it over real gRPC links on 127.0.0.1 (without " +
            "the faults a real link cannot do); exit 1 when an invariant fails",
            VerbShape.Of(0, 1, ["seed", "runs"], ["random", "json", "keep", "grpc"]), RunAsync, NeedsHome: false),
    ];

    private static async Task<int> RunAsync(Invocation inv)
    {
        var random = inv.Args.Flag("random");
        var source = inv.Args.OptionalPositional(0);
        if (random == (source is not null)) throw new UsageException("give a SCENARIO file or name, or --random (not both)");
        var runs = Number(inv.Args.Value("runs"), "runs") ?? 1;
        if (runs < 1) throw new UsageException("--runs takes a number of at least 1");
        Scenario? scenario = null;
        if (source is not null)
        {
            try
            {
                scenario = Scenario.Load(Resolve(source));
            }
            catch (ScenarioException e)
            {
                throw new CliException(e.Message);
            }
        }
        var firstSeed = Number(inv.Args.Value("seed"), "seed") ?? scenario?.Seed ?? (Environment.TickCount & 0x7FFFFFFF);
        var failed = new List<int>();
        for (var k = 0; k < runs; k++)
        {
            inv.Ct.ThrowIfCancellationRequested();
            var seed = unchecked(firstSeed + k);
            var run = scenario ?? Scenario.Random(seed);
            if (inv.Args.Flag("grpc") && !run.IsGrpc)
            {
                run = run.OverGrpc(out var dropped);
                if (dropped.Count > 0) inv.Err.WriteLine("sim: over gRPC without " + string.Join(", ", dropped));
            }
            inv.Err.WriteLine($"sim: {run.Name}, seed {seed.ToString(CultureInfo.InvariantCulture)} ({k + 1}/{runs}){(run.IsGrpc ? " over gRPC" : "")}");
            var options = new SimulationOptions
            {
                Progress = inv.Err,
                KeepFiles = inv.Args.Flag("keep"),
                RerunCommand = (source is null ? "actorsync sim --random" : $"actorsync sim {source}") + (inv.Args.Flag("grpc") ? " --grpc" : ""),
            };
            var report = await SimulationRunner.RunAsync(run, seed, options, inv.Ct);
            if (inv.Json) inv.Out.WriteLine(report.ToJsonLine());
            else inv.Out.Write(report.ToTable() + "\n");
            inv.Out.Flush();
            if (!report.Passed) failed.Add(seed);
        }
        if (runs > 1)
            inv.Err.WriteLine(failed.Count == 0
                ? $"sim: {runs} runs, all passed"
                : $"sim: {runs} runs, {failed.Count} failed (seeds {string.Join(", ", failed.Select(s => s.ToString(CultureInfo.InvariantCulture)))})");
        return failed.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>A file path as given, else a name under config/scenarios (next to the binaries, then in the working folder).</summary>
    private static string Resolve(string source)
    {
        if (File.Exists(source)) return source;
        var name = source.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? source : source + ".json";
        foreach (var folder in new[] { Path.Combine(AppContext.BaseDirectory, "config", "scenarios"), Path.Combine("config", "scenarios") })
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path)) return path;
        }
        throw new CliException($"no scenario '{source}' (a JSON file, or a name under config/scenarios: smoke, partitions, crashes, relay)");
    }

    private static int? Number(string? text, string option) =>
        text is null ? null
        : int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"--{option} takes a whole number");
}

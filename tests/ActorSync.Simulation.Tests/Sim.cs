using ActorSync.Simulation.Reporting;
using ActorSync.Simulation.Running;
using ActorSync.Simulation.Scenarios;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Simulation.Tests;

/// <summary>Whole-network runs start many peers: one spec at a time, so two loaded cores keep up.</summary>
[CollectionDefinition(Name)]
public sealed class SimulationCollection
{
    public const string Name = "Simulations (many peers, one run at a time)";
}

/// <summary>
/// The test helper: a scenario spec is a few lines.
/// <code>
/// var report = await Sim.RunAsync("crashes", seed: 11, output);
/// Sim.AssertPassed(report);
/// </code>
/// </summary>
internal static class Sim
{
    public static string ScenarioFolder => Path.Combine(AppContext.BaseDirectory, "config", "scenarios");

    public static Scenario Named(string name) => Scenario.Load(Path.Combine(ScenarioFolder, name + ".json"));

    /// <summary>Runs a shipped scenario by name (config/scenarios/NAME.json) with a seed.</summary>
    public static Task<SimReport> RunAsync(string name, int seed, ITestOutputHelper? output = null, SimulationOptions? options = null) =>
        RunAsync(Named(name), seed, output, options, $"actorsync sim {name}");

    public static async Task<SimReport> RunAsync(Scenario scenario, int seed, ITestOutputHelper? output = null, SimulationOptions? options = null,
        string rerun = "actorsync sim --random")
    {
        var report = await SimulationRunner.RunAsync(scenario, seed, (options ?? new SimulationOptions()) with { RerunCommand = rerun });
        output?.WriteLine(report.ToTable());
        return report;
    }

    /// <summary>Fails with the whole report (checks, trace, rerun command) when any invariant failed.</summary>
    public static void AssertPassed(SimReport report)
    {
        Assert.True(report.Passed, "\n" + report.ToTable());
    }
}

using ActorSync.Simulation.Running;
using ActorSync.Simulation.Scenarios;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Simulation.Tests;

/// <summary>
/// The fixed seeds CI runs: real peers on the simulated network, every invariant checked. A seed
/// that fails prints its report, with the trace and the command that reruns it.
/// </summary>
[Collection(SimulationCollection.Name)]
public sealed class SimulationSpecs
{
    private readonly ITestOutputHelper _output;

    public SimulationSpecs(ITestOutputHelper output) => _output = output;

    [Theory(Timeout = 300_000)]
    [InlineData("smoke", 1)]
    [InlineData("crashes", 11)]
    [InlineData("relay", 3)]
    public async Task Shipped_scenario_should_keep_every_invariant(string name, int seed) =>
        Sim.AssertPassed(await Sim.RunAsync(name, seed, _output));

    /// <summary>Random scenarios (files and clock skew included), uninvites too since the seed-7 fixes; relay off to keep CI short.</summary>
    [Theory(Timeout = 300_000)]
    [InlineData(101)]
    [InlineData(102)]
    [InlineData(103)]
    public async Task Random_scenario_should_keep_every_invariant(int seed)
    {
        var random = Scenario.Random(seed);
        var scenario = random with { Relay = false, Faults = random.Faults with { RelayCrashes = 0 } };
        Sim.AssertPassed(await Sim.RunAsync(scenario, seed, _output));
    }

    /// <summary>
    /// Was skipped as a finding: members ended apart for good. Three gaps behind it, each fixed with
    /// a spec of its own (README, Known limits): frames from a removed member dropped, a rotation's
    /// key stuck behind the deltas it unlocks, a joiner's lost request for its first copy.
    /// </summary>
    [Theory(Timeout = 300_000)]
    [InlineData("partitions", 7)]
    public async Task Lossy_scenario_should_keep_every_invariant(string name, int seed) =>
        Sim.AssertPassed(await Sim.RunAsync(name, seed, _output));

    /// <summary>
    /// Pruning as the run goes (prune-after 15): logs and journals shrink, crashed peers recover from
    /// snapshots, members invited late start from their inviter's image; the pruning check requires
    /// that something was pruned and that no member still waits for its image's log.
    /// </summary>
    [Theory(Timeout = 300_000)]
    [InlineData("pruning", 3)]
    public async Task Scenario_with_pruning_should_keep_every_invariant(string name, int seed) =>
        Sim.AssertPassed(await Sim.RunAsync(name, seed, _output));

    /// <summary>Files (puts, overwrites, concurrent puts to one path) with clocks hours apart; time-paced long partitions.</summary>
    [Theory(Timeout = 300_000)]
    [InlineData("files", 5)]
    [InlineData("long-partitions", 21)]
    public async Task Files_skew_and_long_faults_should_keep_every_invariant(string name, int seed) =>
        Sim.AssertPassed(await Sim.RunAsync(name, seed, _output));

    /// <summary>The same checks over the peers' real gRPC links on 127.0.0.1: crashes and offline periods (stop and start), skewed clocks.</summary>
    [Theory(Timeout = 300_000)]
    [InlineData("grpc", 4)]
    public async Task Scenario_over_real_grpc_links_should_keep_every_invariant(string name, int seed)
    {
        var report = await Sim.RunAsync(name, seed, _output);
        Sim.AssertPassed(report);
        Assert.Equal(0, report.Network.FramesSent);
    }

    /// <summary>
    /// Three relay nodes in a real Akka.Cluster (shared SQLite journal): seed 5 cuts one node off
    /// with the throttler's Blackhole until the split brain resolver downs it, heals it, and the
    /// node is restarted from its home; peers stay converged with nothing acknowledged lost.
    /// </summary>
    [Theory(Timeout = 300_000)]
    [InlineData("relay-cluster", 5)]
    public async Task Relay_cluster_with_a_node_cut_off_and_downed_should_keep_every_invariant(string name, int seed)
    {
        var report = await Sim.RunAsync(name, seed, _output);
        Sim.AssertPassed(report);
        var cluster = Assert.Single(report.Checks, c => c.Name == "relay-cluster");
        Assert.Contains("cut from the other nodes", cluster.Detail, StringComparison.Ordinal);
    }

    [Fact(Timeout = 300_000)]
    public async Task A_peer_cut_off_for_good_should_be_reported_as_not_converged_with_its_seed_and_trace()
    {
        var scenario = new Scenario { Name = "never-healed", Peers = 3, Members = 3, Commands = 40, QuietTimeoutSeconds = 5, Integrity = false };
        var report = await Sim.RunAsync(scenario, 77, _output, new SimulationOptions { NeverHealIsolated = 2 });

        Assert.False(report.Passed);
        var convergence = Assert.Single(report.Checks, c => c.Name == "convergence");
        Assert.False(convergence.Passed);
        Assert.Contains("not converged", convergence.Detail, StringComparison.Ordinal);
        Assert.Contains("--seed 77", report.Rerun, StringComparison.Ordinal);
        Assert.NotEmpty(report.Trace);
        Assert.Contains("seed 77", report.ToTable(), StringComparison.Ordinal);
        Assert.Contains("\"passed\":false", report.ToJsonLine(), StringComparison.Ordinal);
    }
}

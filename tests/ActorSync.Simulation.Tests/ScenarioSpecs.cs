using ActorSync.Simulation.Scenarios;
using Xunit;

namespace ActorSync.Simulation.Tests;

/// <summary>Scenario files: strict parsing with errors that name the field, the shipped examples, seeded generation.</summary>
public sealed class ScenarioSpecs
{
    public static TheoryData<string> Examples => new(Directory.GetFiles(Sim.ScenarioFolder, "*.json").Select(Path.GetFileName).OfType<string>());

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_shipped_scenario_should_parse_and_validate(string file)
    {
        var scenario = Scenario.Load(Path.Combine(Sim.ScenarioFolder, file));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), scenario.Name);
        Assert.NotNull(scenario.Seed);
    }

    [Fact]
    public void Parse_should_name_an_unknown_field_and_its_line()
    {
        var e = Assert.Throws<ScenarioException>(() => Scenario.Parse("{\n  \"name\": \"x\",\n  \"peer\": 3\n}", "typo.json"));
        Assert.StartsWith("typo.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("peer", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"peers\": 51}", "peers is 51: it must be 2-50")]
    [InlineData("{\"peers\": 3, \"members\": 4}", "members is 4: it must be 1 to peers (3)")]
    [InlineData("{\"faults\": {\"loss\": 1.5}}", "faults.loss is 1.5")]
    [InlineData("{\"mix\": {\"entries\": 0, \"edits\": 0, \"deletes\": 0, \"roles\": 0, \"invites\": 0, \"uninvites\": 0}}", "mix: at least one weight")]
    [InlineData("{\"quietTimeoutSeconds\": 1}", "quietTimeoutSeconds is 1")]
    [InlineData("{\"transport\": \"udp\"}", "transport is 'udp': it must be simulated or grpc")]
    [InlineData("{\"transport\": \"grpc\", \"integrity\": false, \"faults\": {\"partitions\": 1}}", "faults.partitions on transport grpc must be 0")]
    [InlineData("{\"transport\": \"grpc\", \"integrity\": false, \"faults\": {\"loss\": 0.1}}", "on transport grpc: loss, duplication, reorder")]
    [InlineData("{\"transport\": \"grpc\"}", "integrity must be false on transport grpc")]
    [InlineData("{\"faults\": {\"relayCrashes\": 1}}", "faults.relayCrashes needs relay: true")]
    [InlineData("{\"faults\": {\"minHoldMs\": 500, \"maxHoldMs\": 100}}", "faults.minHoldMs is 500")]
    [InlineData("{\"relayNodes\": 2}", "relayNodes above 1 needs relay: true")]
    [InlineData("{\"relay\": true, \"relayNodes\": 4}", "relayNodes is 4: it must be 1-3")]
    [InlineData("{\"relay\": true, \"faults\": {\"relayPartitions\": 1}}", "faults.relayPartitions needs relayNodes of 2 or 3")]
    [InlineData("{\"faults\": {\"clockSkewMinutes\": -5}}", "faults.clockSkewMinutes is -5")]
    public void Parse_should_refuse_values_out_of_range_with_a_clear_message(string json, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => Scenario.Parse(json, "bad.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"peers\": \"three\"}")]
    [InlineData("{\"peers\": 3,")]
    [InlineData("null")]
    public void Parse_should_refuse_malformed_json_with_a_scenario_exception(string json)
    {
        var e = Assert.Throws<ScenarioException>(() => Scenario.Parse(json, "broken.json"));
        Assert.StartsWith("broken.json: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_should_accept_comments_and_keep_defaults()
    {
        var s = Scenario.Parse("// a comment\n{ \"name\": \"tiny\", \"peers\": 2, \"members\": 2 }");
        Assert.Equal(("tiny", 2, 1, true), (s.Name, s.Peers, s.Workspaces, s.Integrity));
    }

    [Fact]
    public void Random_scenarios_and_plans_should_be_a_function_of_the_seed()
    {
        Assert.Equal(Scenario.Random(5), Scenario.Random(5));
        Assert.NotEqual(Scenario.Random(5), Scenario.Random(6));
        var scenario = Scenario.Random(5) with { Faults = new FaultPlan { Partitions = 3, Crashes = 2, Offline = 1 } };
        var plan = ScenarioPlan.Generate(scenario, 5);
        Assert.Equal(plan, ScenarioPlan.Generate(scenario, 5));
        Assert.NotEqual(plan, ScenarioPlan.Generate(scenario, 6));
        Assert.Equal(scenario.Commands + 2 * (3 + 2 + 1), plan.Count);
        Assert.Equal(plan.Count(s => s.Kind == StepKind.Partition), plan.Count(s => s.Kind == StepKind.Heal));
    }

    [Fact]
    public void Plan_should_close_every_fault_window_by_heal_by()
    {
        var scenario = new Scenario { Peers = 4, Members = 3, Commands = 200, Faults = new FaultPlan { Partitions = 10, Crashes = 5, Offline = 5, HealBy = 0.5 } };
        var plan = ScenarioPlan.Generate(scenario, 9);
        var commandsBeforeLastFault = plan.TakeWhile(s => s.Index <= plan.Last(p => p.IsFault).Index).Count(s => !s.IsFault);
        Assert.True(commandsBeforeLastFault <= 100, $"the last fault comes after {commandsBeforeLastFault} commands");
    }

    [Fact]
    public void Plan_paced_by_time_should_open_windows_that_carry_their_hold_and_close_themselves()
    {
        var scenario = new Scenario
        {
            Peers = 4, Members = 3, Commands = 100, Relay = true,
            Faults = new FaultPlan { Partitions = 3, Crashes = 1, Offline = 1, RelayCrashes = 1, MinHoldMs = 1000, MaxHoldMs = 3000 },
        };
        var plan = ScenarioPlan.Generate(scenario, 4);
        var opens = plan.Where(s => s.IsFault).ToList();
        Assert.Equal(6, opens.Count);
        Assert.All(opens, s => Assert.InRange(s.HoldMs, 1000, 3000));
        Assert.All(opens, s => Assert.NotNull(s.Closing));
        Assert.Single(opens, s => s.Kind == StepKind.RelayCrash);
        Assert.DoesNotContain(plan, s => s.Kind is StepKind.Heal or StepKind.Restart or StepKind.Rejoin or StepKind.RelayRestart);
    }

    [Fact]
    public void Relay_cluster_plan_should_name_a_node_for_each_relay_fault_and_leave_single_node_plans_as_they_were()
    {
        var single = new Scenario { Peers = 4, Members = 3, Commands = 100, Relay = true, Faults = new FaultPlan { Partitions = 2, RelayCrashes = 2 } };
        var singlePlan = ScenarioPlan.Generate(single, 6);
        Assert.All(singlePlan.Where(s => s.Kind is StepKind.RelayCrash or StepKind.RelayRestart), s => Assert.Equal(-1, s.A));

        var cluster = single with { RelayNodes = 3, Faults = single.Faults with { RelayPartitions = 2 } };
        var plan = ScenarioPlan.Generate(cluster, 6);
        // The draws before the relay faults are the single-node plan's: the same commands and peer faults.
        Assert.Equal(singlePlan.Where(s => s.Kind < StepKind.RelayCrash).Select(s => s with { Index = 0 }),
            plan.Where(s => s.Kind < StepKind.RelayCrash).Select(s => s with { Index = 0 }));
        Assert.Equal(2, plan.Count(s => s.Kind == StepKind.RelayPartition));
        Assert.Equal(2, plan.Count(s => s.Kind == StepKind.RelayHeal));
        Assert.All(plan.Where(s => s.Kind >= StepKind.RelayCrash), s => Assert.InRange(s.A, 0, 2));
        Assert.Contains("RelayPartition relay", plan.First(s => s.Kind == StepKind.RelayPartition).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_for_files_should_put_file_steps_in_the_plan_and_leave_plans_without_them_as_they_were()
    {
        var plain = new Scenario { Peers = 3, Commands = 200 };
        var withFiles = plain with { Mix = plain.Mix with { Files = 20, FileConflicts = 10 } };
        Assert.Contains(ScenarioPlan.Generate(withFiles, 3), s => s.Kind == StepKind.PutFile);
        Assert.Contains(ScenarioPlan.Generate(withFiles, 3), s => s.Kind == StepKind.ConflictFile);
        Assert.DoesNotContain(ScenarioPlan.Generate(plain, 3), s => s.Kind is StepKind.PutFile or StepKind.ConflictFile);
    }

    [Fact]
    public void Over_grpc_a_scenario_should_keep_its_workload_and_say_which_faults_it_leaves_out()
    {
        var partitions = Scenario.Parse(File.ReadAllText(Path.Combine(Sim.ScenarioFolder, "partitions.json")));
        var grpc = partitions.OverGrpc(out var dropped);
        Assert.True(grpc.IsGrpc);
        Assert.Equal((partitions.Commands, partitions.Mix, partitions.Faults.Offline), (grpc.Commands, grpc.Mix, grpc.Faults.Offline));
        Assert.Equal((0, 0.0, false), (grpc.Faults.Partitions, grpc.Faults.Loss, grpc.Integrity));
        Assert.Equal(["frame loss, duplication, reordering and delay", "4 partitions", "the hostile member (integrity check)"], dropped);
    }

    [Fact]
    public void A_scenario_should_round_trip_through_json()
    {
        var s = Scenario.Random(12);
        Assert.Equal(s, Scenario.Parse(s.ToJson()));
    }
}

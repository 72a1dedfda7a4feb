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
    public void A_scenario_should_round_trip_through_json()
    {
        var s = Scenario.Random(12);
        Assert.Equal(s, Scenario.Parse(s.ToJson()));
    }
}

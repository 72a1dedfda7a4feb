using System.Globalization;
using ActorSync.Core.Permissions;

namespace ActorSync.Simulation.Scenarios;

/// <summary>What one step of a run does.</summary>
public enum StepKind
{
    Post,
    Edit,
    Delete,
    ChangeRole,
    Invite,
    Uninvite,
    PutFile,
    ConflictFile,
    Partition,
    Heal,
    Crash,
    Restart,
    Isolate,
    Rejoin,
    RelayCrash,
    RelayRestart,
    RelayPartition,
    RelayHeal,
}

/// <summary>
/// One step of a plan. Peers in fault steps are indexes (<see cref="A"/>, <see cref="B"/>). Command
/// steps name a workspace and carry <see cref="Pick"/> numbers that the runner resolves against the
/// membership it has seen succeed so far (who acts, whom it targets, which entry), so the plan is a
/// pure function of the seed while its targets stay valid whatever failed before.
/// </summary>
public sealed record SimStep(int Index, StepKind Kind, int Workspace = 0, int A = -1, int B = -1, int Pick = 0, int Pick2 = 0,
    ToolKind Tool = ToolKind.Chat, Role Role = Role.Participant, int HoldMs = 0)
{
    public bool IsFault => Kind >= StepKind.Partition;

    /// <summary>The step that ends this fault window (time-paced plans carry only the opening step, with <see cref="HoldMs"/>).</summary>
    public SimStep? Closing => Kind switch
    {
        StepKind.Partition => this with { Kind = StepKind.Heal, HoldMs = 0 },
        StepKind.Crash => this with { Kind = StepKind.Restart, HoldMs = 0 },
        StepKind.Isolate => this with { Kind = StepKind.Rejoin, HoldMs = 0 },
        StepKind.RelayCrash => this with { Kind = StepKind.RelayRestart, HoldMs = 0 },
        StepKind.RelayPartition => this with { Kind = StepKind.RelayHeal, HoldMs = 0 },
        _ => null,
    };

    public override string ToString() => Kind switch
    {
        StepKind.Partition or StepKind.Heal => string.Create(CultureInfo.InvariantCulture, $"#{Index} {Kind} p{A} p{B}"),
        StepKind.Crash or StepKind.Restart or StepKind.Isolate or StepKind.Rejoin => string.Create(CultureInfo.InvariantCulture, $"#{Index} {Kind} p{A}"),
        StepKind.RelayCrash or StepKind.RelayRestart when A < 0 => string.Create(CultureInfo.InvariantCulture, $"#{Index} {Kind}"),
        StepKind.RelayCrash or StepKind.RelayRestart or StepKind.RelayPartition or StepKind.RelayHeal =>
            string.Create(CultureInfo.InvariantCulture, $"#{Index} {Kind} relay{A}"),
        StepKind.Post => string.Create(CultureInfo.InvariantCulture, $"#{Index} {Kind} ws{Workspace} {Tool}"),
        StepKind.ChangeRole => string.Create(CultureInfo.InvariantCulture, $"#{Index} {Kind} ws{Workspace} -> {Role}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"#{Index} {Kind} ws{Workspace}"),
    };
}

/// <summary>The steps of a run, generated from a scenario and its seed; the same seed gives the same plan.</summary>
public static class ScenarioPlan
{
    private static readonly ToolKind[] EntryTools = [ToolKind.Discussion, ToolKind.Chat, ToolKind.Calendar, ToolKind.Notepad];

    public static IReadOnlyList<SimStep> Generate(Scenario scenario, int seed)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var r = new Random(StableSeed(seed, "plan"));
        var n = scenario.Commands;
        var mix = scenario.Mix;
        var commands = new List<SimStep>(n);
        for (var i = 0; i < n; i++)
        {
            var roll = r.Next(mix.Total);
            var kind = Pick(roll, (mix.Entries, StepKind.Post), (mix.Edits, StepKind.Edit), (mix.Deletes, StepKind.Delete),
                (mix.Roles, StepKind.ChangeRole), (mix.Invites, StepKind.Invite), (mix.Uninvites, StepKind.Uninvite),
                (mix.Files, StepKind.PutFile), (mix.FileConflicts, StepKind.ConflictFile));
            commands.Add(new SimStep(0, kind, r.Next(scenario.Workspaces), Pick: r.Next(int.MaxValue), Pick2: r.Next(int.MaxValue),
                Tool: EntryTools[r.Next(EntryTools.Length)], Role: RandomRole(r)));
        }
        // Faults start and end at command positions; every fault is over by HealBy of the workload.
        var faults = new List<(int At, int Order, SimStep Step)>();
        var horizon = Math.Max(1, (int)(n * scenario.Faults.HealBy));
        var order = 0;
        var f = scenario.Faults;
        void Window(StepKind open, StepKind close, int a, int b)
        {
            var start = r.Next(horizon);
            var length = Math.Max(1, r.Next(Math.Max(2, horizon / 10), Math.Max(3, horizon / 3)));
            if (f.PacedByTime)
            {
                // Closed by the workload once its time is up, whatever the command count then.
                faults.Add((start, order++, new SimStep(0, open, A: a, B: b, HoldMs: r.Next(f.MinHoldMs, f.MaxHoldMs + 1))));
                return;
            }
            var end = Math.Min(horizon, start + length);
            faults.Add((start, order++, new SimStep(0, open, A: a, B: b)));
            faults.Add((end, order++, new SimStep(0, close, A: a, B: b)));
        }
        var peers = scenario.Peers;
        for (var i = 0; i < scenario.Faults.Partitions; i++)
        {
            var a = r.Next(peers);
            var b = (a + 1 + r.Next(peers - 1)) % peers;
            Window(StepKind.Partition, StepKind.Heal, a, b);
        }
        for (var i = 0; i < scenario.Faults.Crashes; i++) Window(StepKind.Crash, StepKind.Restart, r.Next(peers), -1);
        for (var i = 0; i < scenario.Faults.Offline; i++) Window(StepKind.Isolate, StepKind.Rejoin, r.Next(peers), -1);
        // Drawn after every older kind of draw, so plans of scenarios without them stay as they were.
        // One node: A stays -1 (no draw), so single-node plans stay as they were.
        for (var i = 0; i < scenario.Faults.RelayCrashes; i++)
            Window(StepKind.RelayCrash, StepKind.RelayRestart, scenario.RelayNodes > 1 ? r.Next(scenario.RelayNodes) : -1, -1);
        for (var i = 0; i < scenario.Faults.RelayPartitions; i++) Window(StepKind.RelayPartition, StepKind.RelayHeal, r.Next(scenario.RelayNodes), -1);
        var byPosition = faults.OrderBy(f => f.At).ThenBy(f => f.Order).ToLookup(f => f.At, f => f.Step);
        var steps = new List<SimStep>(n + faults.Count);
        for (var i = 0; i <= n; i++)
        {
            foreach (var fault in byPosition[i]) steps.Add(fault with { Index = steps.Count });
            if (i < n) steps.Add(commands[i] with { Index = steps.Count });
        }
        return steps;
    }

    /// <summary>A seed for one purpose of a run, so adding draws to one purpose never shifts another.</summary>
    public static int StableSeed(int seed, string purpose) => Network.StableHash.Of(seed, purpose);

    private static Role RandomRole(Random r) => r.Next(10) switch
    {
        < 6 => Role.Participant,
        < 8 => Role.Guest,
        _ => Role.Manager,
    };

    private static StepKind Pick(int roll, params (int Weight, StepKind Kind)[] choices)
    {
        foreach (var (weight, kind) in choices)
        {
            if (roll < weight) return kind;
            roll -= weight;
        }
        return choices[0].Kind;
    }
}

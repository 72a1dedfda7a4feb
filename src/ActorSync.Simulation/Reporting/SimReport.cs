using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ActorSync.Simulation.Reporting;

/// <summary>One invariant checked at the end of a run (ARCHITECTURE section 6).</summary>
public sealed record CheckResult(string Name, bool Passed, string Detail);

/// <summary>What the workload did: commands acknowledged (succeeded), refused by the peer, skipped (nobody could act), failed otherwise.</summary>
public sealed record WorkloadStats(int Steps, int Acknowledged, int Refused, int Skipped, int Errors, int Faults);

/// <summary>What the simulated network did to frames and links.</summary>
public sealed record NetworkStats(long FramesSent, long FramesDelivered, long Lost, long Duplicated, long Reordered, long LinksOpened, long DialsRefused);

/// <summary>
/// The outcome of one simulation run: the checks, what happened, how long each phase took, and for
/// a failing run the last network and fault events and the command that reruns it.
/// </summary>
public sealed record SimReport(
    string Scenario,
    int Seed,
    int Peers,
    int Workspaces,
    bool Relay,
    WorkloadStats Workload,
    NetworkStats Network,
    double SetupSeconds,
    double WorkloadSeconds,
    double QuietSeconds,
    double TotalSeconds,
    IReadOnlyList<CheckResult> Checks,
    IReadOnlyList<string> Trace,
    string Rerun)
{
    public bool Passed => Checks.Count > 0 && Checks.All(c => c.Passed);

    /// <summary>
    /// For a run whose members ended apart: the membership story (invites, accepts, removals, role
    /// changes, faults) and each replica's own account of its sync (what it holds, waits for,
    /// rejected, and what it believes each partner holds), device ids replaced by peer names.
    /// </summary>
    public IReadOnlyList<string> Diagnosis { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>One JSON object on one line (the trace only when the run failed).</summary>
    public string ToJsonLine()
    {
        var shape = new
        {
            Scenario,
            Seed,
            Passed,
            Peers,
            Workspaces,
            Relay,
            Workload,
            Network,
            SetupSeconds = Math.Round(SetupSeconds, 2),
            WorkloadSeconds = Math.Round(WorkloadSeconds, 2),
            QuietSeconds = Math.Round(QuietSeconds, 2),
            TotalSeconds = Math.Round(TotalSeconds, 2),
            Checks,
            Trace = Passed ? [] : Trace,
            Diagnosis,
            Rerun,
        };
        return JsonSerializer.Serialize(shape, Json);
    }

    /// <summary>A table of the checks, a few lines of figures, and for a failing run its trace and rerun command.</summary>
    public string ToTable()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.Append(c, $"scenario {Scenario}  seed {Seed}  peers {Peers}  workspaces {Workspaces}  relay {(Relay ? "yes" : "no")}  => {(Passed ? "PASSED" : "FAILED")}\n");
        s.Append(c, $"workload: {Workload.Steps} steps, {Workload.Acknowledged} acknowledged, {Workload.Refused} refused, {Workload.Skipped} skipped, {Workload.Errors} errors, {Workload.Faults} faults\n");
        s.Append(c, $"network:  {Network.FramesSent} frames sent, {Network.FramesDelivered} delivered, {Network.Lost} lost, {Network.Duplicated} duplicated, {Network.Reordered} reordered; {Network.LinksOpened} links, {Network.DialsRefused} dials refused\n");
        s.Append(c, $"time:     setup {SetupSeconds:0.0} s, workload {WorkloadSeconds:0.0} s, heal and quiet {QuietSeconds:0.0} s, total {TotalSeconds:0.0} s\n");
        var width = Math.Max(5, Checks.Count == 0 ? 5 : Checks.Max(k => k.Name.Length));
        s.Append('\n').Append("CHECK".PadRight(width)).Append("  RESULT  DETAIL\n");
        foreach (var check in Checks)
            s.Append(check.Name.PadRight(width)).Append("  ").Append((check.Passed ? "ok" : "FAILED").PadRight(6)).Append("  ").Append(check.Detail).Append('\n');
        if (!Passed)
        {
            s.Append(c, $"\nlast {Trace.Count} events:\n");
            foreach (var line in Trace) s.Append("  ").Append(line).Append('\n');
            if (Diagnosis.Count > 0)
            {
                s.Append("\ndiagnosis:\n");
                foreach (var line in Diagnosis) s.Append("  ").Append(line).Append('\n');
            }
            s.Append(c, $"\nrerun: {Rerun}\n");
        }
        return s.ToString();
    }
}

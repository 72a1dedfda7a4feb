using System.Diagnostics;
using System.Globalization;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;
using ActorSync.Simulation.Network;
using ActorSync.Simulation.Reporting;
using ActorSync.Simulation.Scenarios;

namespace ActorSync.Simulation.Running;

/// <summary>How a run is carried out (not what it simulates: that is the <see cref="Scenario"/>).</summary>
public sealed record SimulationOptions
{
    /// <summary>Where the run's homes and journals go (a fresh folder under it); default: the system temp folder.</summary>
    public string? WorkRoot { get; init; }

    /// <summary>Keep the run's folder afterwards (it is deleted by default).</summary>
    public bool KeepFiles { get; init; }

    /// <summary>Phase lines ("setup: 4 peers up") as the run goes; null: silent.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>How the report tells the user to rerun (the seed is appended), e.g. "actorsync sim config/scenarios/small.json".</summary>
    public string RerunCommand { get; init; } = "actorsync sim --random";

    /// <summary>Akka log level inside every peer (OFF keeps stdout clean for --json).</summary>
    public string AkkaLogLevel { get; init; } = "OFF";

    /// <summary>
    /// Sabotage, for proving the checkers can fail: cut this peer off before the workload and never
    /// heal it. A run with it set must report non-convergence.
    /// </summary>
    public int? NeverHealIsolated { get; init; }
}

/// <summary>
/// Runs one scenario with one seed: real peers (actors, SQLite journals in a temporary folder) on
/// a <see cref="SimulatedNetwork"/>, an optional relay node, the planned workload with its faults;
/// then heals everything, waits (bounded, polled) for quiet, injects hostile deltas, and checks the
/// invariants of ARCHITECTURE section 6. Never throws for a failed invariant: the report says it.
/// </summary>
public sealed class SimulationRunner
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    private readonly Scenario _scenario;
    private readonly int _seed;
    private readonly SimulationOptions _options;

    public SimulationRunner(Scenario scenario, int? seed = null, SimulationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        _scenario = scenario.Validated();
        _seed = seed ?? scenario.SeedOrDefault;
        _options = options ?? new SimulationOptions();
    }

    public static Task<SimReport> RunAsync(Scenario scenario, int? seed = null, SimulationOptions? options = null, CancellationToken ct = default) =>
        new SimulationRunner(scenario, seed, options).RunAsync(ct);

    public async Task<SimReport> RunAsync(CancellationToken ct = default)
    {
        RaiseThreadPoolFloor();
        var total = Stopwatch.StartNew();
        var root = Path.Combine(_options.WorkRoot ?? Path.GetTempPath(), "actorsync-sim-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        var random = new Random(ScenarioPlan.StableSeed(_seed, "runner"));
        var markerPrefix = "simmk" + Guid.NewGuid().ToString("N")[..8] + "x";
        await using var network = new SimulatedNetwork(_seed);
        var checks = new List<CheckResult>();
        var peers = new List<SimPeer>();
        var workspaces = new List<WorkspaceModel>();
        SimRelay? relay = null;
        HostileMember? hostile = null;
        Workload? workload = null;
        double setupSeconds = 0, workloadSeconds = 0, quietSeconds = 0;
        List<string> diagnosis = [];
        var plan = ScenarioPlan.Generate(_scenario, _seed);
        try
        {
            // Set-up, on a clean network.
            var phase = Stopwatch.StartNew();
            if (_scenario.Relay)
            {
                relay = new SimRelay(root, _options.AkkaLogLevel, network, _scenario.RelayNodes);
                await relay.StartAsync(ct).ConfigureAwait(false);
            }
            var skews = Skews();
            for (var i = 0; i < _scenario.Peers; i++)
            {
                IReadOnlyList<string> relays = relay is null ? [] : [relay.AddressFor(i)];
                var peer = new SimPeer(i, root, network, relays, _options.AkkaLogLevel, skews[i], _scenario.IsGrpc, _scenario.PruneAfter);
                await peer.StartAsync(ct).ConfigureAwait(false);
                if (skews[i] != TimeSpan.Zero) network.Note("skew", $"{peer.Name}'s clock is {skews[i].TotalMinutes:+0.#;-0.#} min off");
                peers.Add(peer);
            }
            // Everyone knows everyone's card; the lower-numbered peer of each pair knows where the other listens and dials.
            for (var i = 0; i < peers.Count; i++)
                for (var j = i + 1; j < peers.Count; j++)
                {
                    await peers[i].Api.AddContactAsync(peers[j].Card, peers[j].Address, ct).ConfigureAwait(false);
                    await peers[j].Api.AddContactAsync(peers[i].Card, null, ct).ConfigureAwait(false);
                }
            if (_scenario.Integrity)
            {
                hostile = new HostileMember(network);
                await hostile.StartAsync(peers.Select(p => p.ParsedCard!)).ConfigureAwait(false);
            }
            workload = new Workload(peers, workspaces, network, markerPrefix, relay, _scenario.PaceMs);
            for (var w = 0; w < _scenario.Workspaces; w++)
            {
                var creator = peers[w % peers.Count];
                var id = await creator.Api.CreateWorkspaceAsync("ws" + w.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                var model = new WorkspaceModel(w, id, creator.Index);
                workspaces.Add(model);
                for (var k = 1; k < _scenario.Members; k++)
                {
                    var invitee = peers[(creator.Index + k) % peers.Count];
                    var role = k == 1 ? Role.Participant : (Role)random.Next(1, 4);
                    await creator.Api.InviteAsync(id, invitee.Account, role, ct).ConfigureAwait(false);
                    model.Roles[invitee.Index] = role;
                    model.Pending.Add(invitee.Index);
                }
                if (w == 0 && hostile is not null)
                {
                    await creator.Api.AddContactAsync(hostile.Card.ToText(), hostile.Address, ct).ConfigureAwait(false);
                    await creator.Api.InviteAsync(id, hostile.Card.AccountId.ToString(), Role.Guest, ct).ConfigureAwait(false);
                }
            }
            await AcceptAllAsync(workload, workspaces, TimeSpan.FromSeconds(Math.Max(60, _scenario.QuietTimeoutSeconds)), ct).ConfigureAwait(false);
            var setupQuiet = await WaitQuietAsync(peers, workspaces, TimeSpan.FromSeconds(Math.Max(60, _scenario.QuietTimeoutSeconds)), ct).ConfigureAwait(false);
            if (setupQuiet is not null) throw new SetupException("the workspaces did not converge during set-up: " + setupQuiet);
            setupSeconds = phase.Elapsed.TotalSeconds;
            Progress($"setup: {peers.Count} peers, {workspaces.Count} workspaces{(relay is null ? "" : relay.Count == 1 ? ", relay" : $", {relay.Count} relay nodes")} ({setupSeconds:0.0} s)");

            // The workload, with faults.
            phase.Restart();
            var f = _scenario.Faults;
            network.Faults = new LinkFaults(f.Loss, f.Duplication, f.Reorder, f.MaxDelayMs);
            if (_options.NeverHealIsolated is { } cut) network.Isolate(peers[cut].Name);
            foreach (var step in plan)
            {
                ct.ThrowIfCancellationRequested();
                await workload.RunAsync(step, ct).ConfigureAwait(false);
            }
            await workload.FinishAsync(ct).ConfigureAwait(false);
            workloadSeconds = phase.Elapsed.TotalSeconds;
            Progress($"workload: {plan.Count} steps, {workload.Acknowledged} acknowledged ({workloadSeconds:0.0} s)");

            // Heal everything and wait for quiet.
            phase.Restart();
            network.Faults = LinkFaults.None;
            network.HealAll();
            if (_options.NeverHealIsolated is { } still) network.Isolate(peers[still].Name);
            string? relayProblem = null;
            if (relay is not null) relayProblem = await relay.HealAllAsync(TimeSpan.FromSeconds(Math.Max(60, _scenario.QuietTimeoutSeconds)), ct).ConfigureAwait(false);
            foreach (var peer in peers.Where(p => !p.Up)) await peer.StartAsync(ct).ConfigureAwait(false);
            var quiet = TimeSpan.FromSeconds(_scenario.QuietTimeoutSeconds);
            await AcceptAllAsync(workload, workspaces, quiet, ct).ConfigureAwait(false);
            var notQuiet = await WaitQuietAsync(peers, workspaces, quiet, ct).ConfigureAwait(false);
            quietSeconds = phase.Elapsed.TotalSeconds;
            Progress($"quiet: {(notQuiet is null ? "converged" : "NOT converged")} ({quietSeconds:0.0} s)");

            var active = Active(peers, workspaces);
            if (relay is { Count: > 1 })
                checks.Add(relayProblem is null
                    ? new CheckResult("relay-cluster", true, $"{relay.Count} relay nodes Up and reachable after the heal; {string.Join("; ", relay.Story.DefaultIfEmpty("no relay faults"))}")
                    : new CheckResult("relay-cluster", false, "the relay cluster did not re-form after the heal: " + relayProblem + "; " + string.Join("; ", relay.Story)));
            checks.Add(await Checkers.ConvergenceAsync(peers, workspaces, active, ct).ConfigureAwait(false));
            checks.Add(await Checkers.NoLossAsync(peers, workspaces, active, ct).ConfigureAwait(false));
            if (_scenario.PruneAfter > 0) checks.Add(await Checkers.PruningAsync(peers, workspaces, active, ct).ConfigureAwait(false));
            if (workspaces.Any(w => w.FilesPut > 0)) checks.Add(await Checkers.FilesAsync(peers, workspaces, active, ct).ConfigureAwait(false));
            if (hostile is not null && notQuiet is not null)
                checks.Add(new CheckResult("integrity", false, "not run: the workspaces never became quiet (" + notQuiet + ")"));
            else if (hostile is not null)
            {
                var victim = peers[active[0][random.Next(active[0].Count)]];
                checks.Add(await Checkers.IntegrityAsync(hostile, victim, peers, workspaces[0], active[0], markerPrefix + "hostile",
                    quiet, ct).ConfigureAwait(false));
            }
            checks.Add(await Checkers.RemovedMembersAsync(peers, workspaces, ct).ConfigureAwait(false));
            checks.Add(await Checkers.LivenessAsync(peers, workload.Errors).ConfigureAwait(false));
            if (checks.Any(k => !k.Passed && k.Name is "convergence" or "no-loss" or "files"))
                diagnosis = await SyncDiagnosis.CollectAsync(peers, workspaces, workload.Story).ConfigureAwait(false);
        }
        catch (SetupException e)
        {
            checks.Add(new CheckResult("setup", false, e.Message));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            network.Note("crash", $"{e.GetType().Name}: {e.Message}");
            checks.Add(new CheckResult("run", false, $"the run itself failed: {e.GetType().Name}: {e.Message}"));
        }
        finally
        {
            var teardown = Stopwatch.StartNew();
            // Together: each may wait up to 20 s for its relay to confirm what is on its way.
            await Task.WhenAll(peers.Select(StopQuietly)).ConfigureAwait(false);
            var peersDown = teardown.Elapsed.TotalSeconds;
            if (relay is not null) await relay.DisposeAsync().ConfigureAwait(false);
            if (hostile is not null) await hostile.DisposeAsync().ConfigureAwait(false);
            Progress($"teardown: peers {peersDown:0.0} s, all {teardown.Elapsed.TotalSeconds:0.0} s");
        }
        // Files are searched once every process has let go of them.
        if (workload is not null && workload.Acknowledged > 0)
            checks.Add(Checkers.AtRest(relay?.HomePath, peers.Select(p => p.HomePath), markerPrefix));
        var c = network.Counters;
        var report = new SimReport(_scenario.Name, _seed, _scenario.Peers, _scenario.Workspaces, _scenario.Relay,
            new WorkloadStats(plan.Count, workload?.Acknowledged ?? 0, workload?.Refused ?? 0, workload?.Skipped ?? 0, workload?.Errors ?? 0,
                workload?.Faults ?? 0),
            new NetworkStats(c.FramesSent, c.FramesDelivered, c.FramesLost, c.FramesDuplicated, c.FramesReordered, c.LinksOpened, c.DialsRefused),
            setupSeconds, workloadSeconds, quietSeconds, total.Elapsed.TotalSeconds, checks, network.Trace(50),
            $"{_options.RerunCommand} --seed {_seed.ToString(CultureInfo.InvariantCulture)}") { Diagnosis = diagnosis };
        if (!_options.KeepFiles)
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return report;
    }

    /// <summary>Each peer's clock offset: seeded, up to faults.clockSkewMinutes either way (whole minutes plus seconds), zero without skew.</summary>
    private TimeSpan[] Skews()
    {
        var max = _scenario.Faults.ClockSkewMinutes;
        var r = new Random(ScenarioPlan.StableSeed(_seed, "skew"));
        return Enumerable.Range(0, _scenario.Peers)
            .Select(_ => max == 0 ? TimeSpan.Zero : TimeSpan.FromMinutes(r.Next(-max, max + 1)) + TimeSpan.FromSeconds(r.Next(60)))
            .ToArray();
    }

    /// <summary>Per workspace, the peers that are members and joined (the hostile member is not counted).</summary>
    private static List<List<int>> Active(List<SimPeer> peers, List<WorkspaceModel> workspaces) =>
        workspaces.Select(w => w.Joined.Where(p => peers[p].Up).ToList()).ToList();

    private async Task AcceptAllAsync(Workload workload, List<WorkspaceModel> workspaces, TimeSpan patience, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + patience;
        while (workspaces.Any(w => w.Pending.Count > 0) && DateTime.UtcNow < deadline)
        {
            await workload.TryPendingAcceptsAsync(ct).ConfigureAwait(false);
            if (workspaces.Any(w => w.Pending.Count > 0)) await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Polls until every active member of every workspace has nothing buffered and the same state hash; null when quiet, else what is not.</summary>
    private static async Task<string?> WaitQuietAsync(List<SimPeer> peers, List<WorkspaceModel> workspaces, TimeSpan patience, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var problem = await Checkers.QuietProblemAsync(peers, workspaces, Active(peers, workspaces), ct).ConfigureAwait(false);
            if (problem is null || DateTime.UtcNow > deadline) return problem;
            await Task.Delay(Poll, ct).ConfigureAwait(false);
        }
    }

    private void Progress(string line) => _options.Progress?.WriteLine(line);

    private static async Task StopQuietly(SimPeer peer)
    {
        try
        {
            await peer.StopAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // stopping is best effort at the end of a run; the report already says what failed
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Many actor systems and Kestrel servers start at once; a low thread-pool floor makes them crawl (shared/FACTS.md).</summary>
    private static void RaiseThreadPoolFloor()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 32));
    }

    private sealed class SetupException : Exception
    {
        public SetupException(string message) : base(message) { }
    }
}

using System.Globalization;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;
using ActorSync.Simulation.Network;
using ActorSync.Simulation.Scenarios;

namespace ActorSync.Simulation.Running;

/// <summary>An entry whose creation was acknowledged to its author (the command returned its id).</summary>
internal sealed record AckedEntry(string Workspace, string Id, ToolKind Tool, string Marker, int Author)
{
    public bool Deleted { get; set; }
}

/// <summary>What the runner believes about one workspace, from the commands that succeeded.</summary>
internal sealed class WorkspaceModel
{
    public WorkspaceModel(int index, string id, int creator)
    {
        Index = index;
        Id = id;
        Creator = creator;
        Roles[creator] = Role.Manager;
        Joined.Add(creator);
    }

    public int Index { get; }
    public string Id { get; }
    public int Creator { get; }
    public Dictionary<int, Role> Roles { get; } = [];
    public SortedSet<int> Joined { get; } = [];
    public SortedSet<int> Pending { get; } = [];
    public SortedSet<int> Removed { get; } = [];
    public List<AckedEntry> Entries { get; } = [];

    /// <summary>File puts acknowledged in this workspace (the files check compares every replica's files view and content).</summary>
    public int FilesPut { get; set; }

    /// <summary>Texts the creator wrote after removing a member (the removed member must not read them).</summary>
    public List<(int Removed, string Marker)> AfterRemoval { get; } = [];

    public bool IsMemberOrInvited(int peer) => Joined.Contains(peer) || Pending.Contains(peer);
}

/// <summary>
/// Runs the steps of a plan against the peers: commands through each peer's facade (as the CLI
/// would), faults through the network and the peers' hosts. Records what was acknowledged.
/// </summary>
internal sealed class Workload
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private readonly IReadOnlyList<SimPeer> _peers;
    private readonly IReadOnlyList<WorkspaceModel> _workspaces;
    private readonly SimulatedNetwork _network;
    private readonly string _markerPrefix;
    private int _markers;

    public Workload(IReadOnlyList<SimPeer> peers, IReadOnlyList<WorkspaceModel> workspaces, SimulatedNetwork network, string markerPrefix,
        SimRelay? relay = null, int paceMs = 0)
    {
        _peers = peers;
        _workspaces = workspaces;
        _network = network;
        _markerPrefix = markerPrefix;
        _relay = relay;
        _paceMs = paceMs;
    }

    private readonly SimRelay? _relay;
    private readonly int _paceMs;

    /// <summary>Time-paced fault windows still open: when each closes, and the step that closes it.</summary>
    private readonly List<(DateTime Due, SimStep Closing)> _open = [];

    /// <summary>Files put and acknowledged (the last content each member put at each path).</summary>
    public int FilesPut { get; private set; }

    public int Acknowledged { get; private set; }
    public int Refused { get; private set; }
    public int Skipped { get; private set; }
    public int Errors { get; private set; }
    public int Faults { get; private set; }

    /// <summary>Faults still in force (not healed by the plan): the runner heals them at the end.</summary>
    public HashSet<int> Crashed { get; } = [];

    /// <summary>Every membership command, accept, refusal and fault in order (the network trace keeps only the last few hundred events).</summary>
    public List<string> Story { get; } = [];

    private void Tell(string kind, string detail)
    {
        Remember(kind, detail);
        _network.Note(kind, detail);
    }

    private void Remember(string kind, string detail) => Story.Add(string.Create(CultureInfo.InvariantCulture, $"[{Story.Count}] {kind}: {detail}"));

    public string NextMarker() => _markerPrefix + (++_markers).ToString(CultureInfo.InvariantCulture);

    public async Task RunAsync(SimStep step, CancellationToken ct)
    {
        await CloseDueAsync(DateTime.UtcNow, ct).ConfigureAwait(false);
        if (step.IsFault)
        {
            await FaultAsync(step, ct).ConfigureAwait(false);
            if (step.HoldMs > 0 && step.Closing is { } closing) _open.Add((DateTime.UtcNow.AddMilliseconds(step.HoldMs), closing));
            return;
        }
        await CommandAsync(step, ct).ConfigureAwait(false);
        if (_paceMs > 0) await Task.Delay(_paceMs, ct).ConfigureAwait(false);
    }

    /// <summary>After the last command: time-paced windows still open are held to their time, then closed in order.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        while (_open.Count > 0)
        {
            var next = _open.Min(o => o.Due);
            var wait = next - DateTime.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
            await CloseDueAsync(next, ct).ConfigureAwait(false);
        }
    }

    private async Task CloseDueAsync(DateTime now, CancellationToken ct)
    {
        foreach (var due in _open.Where(o => o.Due <= now).OrderBy(o => o.Due).ToList())
        {
            _open.Remove(due);
            await FaultAsync(due.Closing, ct).ConfigureAwait(false);
        }
    }

    private async Task CommandAsync(SimStep step, CancellationToken ct)
    {
        await TryPendingAcceptsAsync(ct).ConfigureAwait(false);
        var ws = _workspaces[step.Workspace];
        try
        {
            var done = step.Kind switch
            {
                StepKind.Post => await PostAsync(ws, step, ct).ConfigureAwait(false),
                StepKind.Edit or StepKind.Delete => await EditAsync(ws, step, ct).ConfigureAwait(false),
                StepKind.ChangeRole => await ChangeRoleAsync(ws, step, ct).ConfigureAwait(false),
                StepKind.Invite => await InviteAsync(ws, step, ct).ConfigureAwait(false),
                StepKind.Uninvite => await UninviteAsync(ws, step, ct).ConfigureAwait(false),
                StepKind.PutFile => await PutFileAsync(ws, step, ct).ConfigureAwait(false),
                StepKind.ConflictFile => await ConflictFileAsync(ws, step, ct).ConfigureAwait(false),
                _ => false,
            };
            if (done) Acknowledged++;
            else Skipped++;
        }
        catch (PeerRequestException e)
        {
            Refused++;
            Tell("refused", $"{step}: {e.Message}");
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or Akka.Actor.AskTimeoutException && !ct.IsCancellationRequested)
        {
            Errors++;
            Tell("error", $"{step}: {e.GetType().Name}: {e.Message}");
        }
    }

    private async Task<bool> PostAsync(WorkspaceModel ws, SimStep step, CancellationToken ct)
    {
        if (Actor(ws, step.Pick, _ => true) is not { } actor) return false;
        var marker = NextMarker();
        var fields = step.Tool switch
        {
            ToolKind.Calendar => new Dictionary<string, string> { ["title"] = marker, ["start"] = "2026-12-01T10:00:00Z" },
            ToolKind.Notepad => new Dictionary<string, string> { ["title"] = marker },
            _ => new Dictionary<string, string> { ["text"] = marker },
        };
        var id = await Call(ct, c => actor.Api.CreateEntryAsync(ws.Id, step.Tool, fields, c)).ConfigureAwait(false);
        ws.Entries.Add(new AckedEntry(ws.Id, id, step.Tool, marker, actor.Index));
        if (actor.Index == ws.Creator)
            foreach (var removed in ws.Removed) ws.AfterRemoval.Add((removed, marker));
        _network.Note("command", $"{actor.Name} posted {step.Tool} {marker} in ws{ws.Index}");
        return true;
    }

    private async Task<bool> EditAsync(WorkspaceModel ws, SimStep step, CancellationToken ct)
    {
        var candidates = ws.Entries.Where(e => !e.Deleted && e.Tool != ToolKind.Chat).ToList();
        if (candidates.Count == 0 || Actor(ws, step.Pick, _ => true) is not { } actor) return false;
        var entry = candidates[step.Pick2 % candidates.Count];
        if (step.Kind == StepKind.Delete)
        {
            await Call(ct, async c => { await actor.Api.DeleteEntryAsync(ws.Id, entry.Tool, entry.Id, c).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
            entry.Deleted = true;
            _network.Note("command", $"{actor.Name} deleted {entry.Marker} in ws{ws.Index}");
            return true;
        }
        var field = entry.Tool is ToolKind.Calendar or ToolKind.Notepad ? "title" : "text";
        var marker = NextMarker();
        await Call(ct, async c =>
        {
            await actor.Api.EditEntryAsync(ws.Id, entry.Tool, entry.Id, new Dictionary<string, string> { [field] = marker }, c).ConfigureAwait(false);
            return 0;
        }).ConfigureAwait(false);
        if (actor.Index == ws.Creator)
            foreach (var removed in ws.Removed) ws.AfterRemoval.Add((removed, marker));
        _network.Note("command", $"{actor.Name} edited {entry.Marker} -> {marker} in ws{ws.Index}");
        return true;
    }

    private async Task<bool> ChangeRoleAsync(WorkspaceModel ws, SimStep step, CancellationToken ct)
    {
        var creator = _peers[ws.Creator];
        var targets = ws.Joined.Where(p => p != ws.Creator).ToList();
        if (!creator.Up || targets.Count == 0) return false;
        var target = _peers[targets[step.Pick2 % targets.Count]];
        await Call(ct, async c => { await creator.Api.ChangeRoleAsync(ws.Id, target.Account, step.Role, c).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
        ws.Roles[target.Index] = step.Role;
        Tell("command", $"{creator.Name} made {target.Name} {step.Role} in ws{ws.Index}");
        return true;
    }

    private async Task<bool> InviteAsync(WorkspaceModel ws, SimStep step, CancellationToken ct)
    {
        var outsiders = _peers.Where(p => !ws.IsMemberOrInvited(p.Index) && !ws.Removed.Contains(p.Index)).ToList();
        if (outsiders.Count == 0) return false;
        if (Actor(ws, step.Pick, p => ws.Roles.GetValueOrDefault(p) is Role.Manager or Role.Participant) is not { } actor) return false;
        var invitee = outsiders[step.Pick2 % outsiders.Count];
        await Call(ct, async c => { await actor.Api.InviteAsync(ws.Id, invitee.Account, step.Role, c).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
        ws.Pending.Add(invitee.Index);
        ws.Roles[invitee.Index] = step.Role;
        Tell("command", $"{actor.Name} invited {invitee.Name} as {step.Role} to ws{ws.Index}");
        return true;
    }

    private async Task<bool> UninviteAsync(WorkspaceModel ws, SimStep step, CancellationToken ct)
    {
        var creator = _peers[ws.Creator];
        var targets = ws.Joined.Concat(ws.Pending).Where(p => p != ws.Creator).Order().ToList();
        // Keep at least the creator and two others, so the checks always compare several replicas.
        if (!creator.Up || targets.Count <= 2) return false;
        var target = _peers[targets[step.Pick2 % targets.Count]];
        await Call(ct, async c => { await creator.Api.UninviteAsync(ws.Id, target.Account, c).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
        ws.Joined.Remove(target.Index);
        ws.Pending.Remove(target.Index);
        ws.Roles.Remove(target.Index);
        ws.Removed.Add(target.Index);
        Tell("command", $"{creator.Name} uninvited {target.Name} from ws{ws.Index}");
        return true;
    }

    private static readonly string[] FilePaths = ["notes.txt", "plan/budget.bin", "plan/photo.bin", "readme.md"];

    /// <summary>A member that may add and modify files (manager or participant) puts seeded content of a small random size at one of a few paths.</summary>
    private async Task<bool> PutFileAsync(WorkspaceModel ws, SimStep step, CancellationToken ct)
    {
        if (Actor(ws, step.Pick, p => ws.Roles.GetValueOrDefault(p) is Role.Manager or Role.Participant) is not { } actor) return false;
        var path = FilePaths[step.Pick2 % FilePaths.Length];
        var content = Content(step.Pick2, actor.Index);
        await PutAsync(actor, ws, path, content, ct).ConfigureAwait(false);
        Tell("file", $"{actor.Name} put {path} ({content.Length} bytes) in ws{ws.Index}");
        return true;
    }

    /// <summary>Two members put different content at one path at the same moment: neither has seen the other's, so every replica must keep both.</summary>
    private async Task<bool> ConflictFileAsync(WorkspaceModel ws, SimStep step, CancellationToken ct)
    {
        var writers = ws.Joined.Where(p => _peers[p].Up && ws.Roles.GetValueOrDefault(p) is Role.Manager or Role.Participant).ToList();
        if (writers.Count < 2) return false;
        var first = _peers[writers[step.Pick % writers.Count]];
        var second = _peers[writers[(step.Pick % writers.Count + 1 + step.Pick2 % (writers.Count - 1)) % writers.Count]];
        var path = FilePaths[step.Pick2 % FilePaths.Length];
        var a = Content(step.Pick, first.Index);
        var b = Content(step.Pick2, second.Index);
        // Both or neither count: a refusal of one (a role changed meanwhile) surfaces as the step's refusal.
        await Task.WhenAll(PutAsync(first, ws, path, a, ct), PutAsync(second, ws, path, b, ct)).ConfigureAwait(false);
        Tell("file", $"{first.Name} and {second.Name} put {path} at once ({a.Length} and {b.Length} bytes) in ws{ws.Index}");
        return true;
    }

    private async Task PutAsync(SimPeer actor, WorkspaceModel ws, string path, byte[] content, CancellationToken ct)
    {
        using var stream = new MemoryStream(content, writable: false);
        await Call(ct, c => actor.Api.PutFileAsync(ws.Id, path, stream, c)).ConfigureAwait(false);
        ws.FilesPut++;
        FilesPut++;
    }

    /// <summary>A fresh marker (so the at-rest check looks for file content too) and seeded bytes: up to 40 KB in all, different per writer.</summary>
    private byte[] Content(int pick, int writer)
    {
        var marker = System.Text.Encoding.UTF8.GetBytes(NextMarker());
        var r = new Random(unchecked(pick * 31 + writer));
        var bytes = new byte[marker.Length + r.Next(0, 40 * 1024)];
        marker.CopyTo(bytes, 0);
        r.NextBytes(bytes.AsSpan(marker.Length));
        return bytes;
    }

    /// <summary>Invitees accept once their invitation is there (a partitioned invitee waits).</summary>
    public async Task TryPendingAcceptsAsync(CancellationToken ct)
    {
        foreach (var ws in _workspaces)
        {
            foreach (var index in ws.Pending.ToList())
            {
                var peer = _peers[index];
                if (!peer.Up) continue;
                try
                {
                    var invitations = await Call(ct, c => peer.Api.InvitationsAsync(c)).ConfigureAwait(false);
                    if (!invitations.Any(i => i.Workspace == ws.Id)) continue;
                    var progress = await Call(ct, c => peer.Api.AcceptAsync(ws.Id, c)).ConfigureAwait(false);
                    ws.Pending.Remove(index);
                    ws.Joined.Add(index);
                    Tell("accept", $"{peer.Name} joined ws{ws.Index} ({(progress.Complete ? "complete" : "first copy still coming")})");
                }
                catch (PeerRequestException e)
                {
                    Tell("accept", $"{peer.Name} could not accept ws{ws.Index} yet: {e.Message}");
                }
            }
        }
    }

    /// <summary>The relay fault open now (kind and node), if any.</summary>
    private (StepKind Kind, int Node)? _relayFault;

    /// <summary>
    /// Relay faults one at a time: a crash or a partition that would open while another is open is
    /// skipped (with its closing step), so the relay cluster keeps a majority of its nodes and the
    /// split brain resolver keeps the majority side up.
    /// </summary>
    private async Task RelayFaultAsync(SimRelay relay, SimStep step, CancellationToken ct)
    {
        var node = Math.Max(0, step.A);
        var name = relay.Count == 1 ? "the relay node" : relay.Name(node);
        var hold = step.HoldMs > 0 ? $" for {step.HoldMs} ms" : "";
        switch (step.Kind)
        {
            case StepKind.RelayCrash or StepKind.RelayPartition when _relayFault is { } open:
                Tell("relay-skip", $"{step} skipped: {open.Kind} of {relay.Name(open.Node)} is still open");
                return;
            case StepKind.RelayCrash:
                Tell("relay-crash", relay.Count == 1 ? "the relay node stops (host disposed)" + hold
                    : $"{name} crashes (its actor system terminates without leaving the cluster){hold}");
                _relayFault = (step.Kind, node);
                await relay.CrashAsync(node).ConfigureAwait(false);
                Faults++;
                return;
            case StepKind.RelayRestart when _relayFault == (StepKind.RelayCrash, node):
                Tell("relay-restart", $"{name} starts again from its home, on its ports");
                await relay.RestartAsync(node, ct).ConfigureAwait(false);
                _relayFault = null;
                Faults++;
                return;
            case StepKind.RelayPartition:
                Tell("relay-partition", $"{name} is cut from the other relay nodes (throttler: Blackhole both ways){hold}");
                _relayFault = (step.Kind, node);
                await relay.PartitionAsync(node).ConfigureAwait(false);
                Faults++;
                return;
            case StepKind.RelayHeal when _relayFault == (StepKind.RelayPartition, node):
                Tell("relay-heal", $"{name} is reachable again (throttler: Unthrottled); if it was downed, it is restarted");
                await relay.HealAsync(node).ConfigureAwait(false);
                _relayFault = null;
                Faults++;
                return;
            default:
                return; // the closing step of a skipped window
        }
    }

    private async Task FaultAsync(SimStep step, CancellationToken ct)
    {
        switch (step.Kind)
        {
            case StepKind.RelayCrash or StepKind.RelayRestart or StepKind.RelayPartition or StepKind.RelayHeal when _relay is not null:
                await RelayFaultAsync(_relay, step, ct).ConfigureAwait(false);
                return;
            case StepKind.RelayCrash or StepKind.RelayRestart or StepKind.RelayPartition or StepKind.RelayHeal:
                return;
            default:
                break;
        }
        var a = _peers[step.A];
        if (a.Grpc && step.Kind is StepKind.Isolate or StepKind.Rejoin)
        {
            // Over real links a device is offline when it is switched off: stopped, and started again later.
            step = step with { Kind = step.Kind == StepKind.Isolate ? StepKind.Crash : StepKind.Restart };
        }
        if (step.HoldMs > 0) Remember("hold", $"{step} for {step.HoldMs} ms");
        switch (step.Kind)
        {
            case StepKind.Partition:
                Remember("partition", $"{a.Name} | {_peers[step.B].Name}");
                _network.Partition(a.Name, _peers[step.B].Name);
                break;
            case StepKind.Heal:
                Remember("heal", $"{a.Name} - {_peers[step.B].Name}");
                _network.Heal(a.Name, _peers[step.B].Name);
                break;
            case StepKind.Isolate:
                Remember("isolate", $"{a.Name}");
                _network.Isolate(a.Name);
                break;
            case StepKind.Rejoin:
                Remember("rejoin", $"{a.Name}");
                _network.Rejoin(a.Name);
                break;
            case StepKind.Crash when a.Up:
                Tell("crash", a.Name + " stops (host disposed)");
                Crashed.Add(a.Index);
                await a.StopAsync().ConfigureAwait(false);
                break;
            case StepKind.Restart when !a.Up:
                Tell("restart", a.Name + " starts again from its home");
                await a.StartAsync(ct).ConfigureAwait(false);
                Crashed.Remove(a.Index);
                break;
            default:
                return; // crash of a peer already down, restart of one already up
        }
        Faults++;
    }

    /// <summary>A member of <paramref name="ws"/> that is up and passes <paramref name="filter"/>, chosen by <paramref name="pick"/>.</summary>
    private SimPeer? Actor(WorkspaceModel ws, int pick, Func<int, bool> filter)
    {
        var candidates = ws.Joined.Where(p => _peers[p].Up && filter(p)).ToList();
        return candidates.Count == 0 ? null : _peers[candidates[pick % candidates.Count]];
    }

    private static async Task<T> Call<T>(CancellationToken ct, Func<CancellationToken, Task<T>> call)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CommandTimeout);
        return await call(timeout.Token).ConfigureAwait(false);
    }
}

using System.Text;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;
using ActorSync.Simulation.Reporting;

namespace ActorSync.Simulation.Running;

/// <summary>The invariants of ARCHITECTURE section 6, checked against the running peers after heal and quiet.</summary>
internal static class Checkers
{
    private static readonly ToolKind[] EntryTools = [ToolKind.Discussion, ToolKind.Chat, ToolKind.Calendar, ToolKind.Notepad];

    /// <summary>Null when every active member of every workspace holds the same state and buffers nothing; else the first difference.</summary>
    public static async Task<string?> QuietProblemAsync(List<SimPeer> peers, List<WorkspaceModel> workspaces, List<List<int>> active, CancellationToken ct)
    {
        foreach (var ws in workspaces)
        {
            string? first = null;
            foreach (var index in active[ws.Index])
            {
                WorkspaceDetails details;
                try
                {
                    details = await peers[index].Api.ShowWorkspaceAsync(ws.Id, ct).ConfigureAwait(false);
                }
                catch (PeerRequestException e)
                {
                    return $"ws{ws.Index}: {peers[index].Name} cannot show it ({e.Message})";
                }
                if (details.Buffered > 0) return $"ws{ws.Index}: {peers[index].Name} still buffers {details.Buffered} deltas";
                first ??= details.StateHash;
                if (details.StateHash != first) return $"ws{ws.Index}: state hashes differ";
            }
        }
        return null;
    }

    /// <summary>
    /// With pruning on: the logs were pruned somewhere (the run exercised it), and no member still
    /// waits for part of the log of the image it started from.
    /// </summary>
    public static async Task<CheckResult> PruningAsync(List<SimPeer> peers, List<WorkspaceModel> workspaces, List<List<int>> active, CancellationToken ct)
    {
        var parts = new List<string>();
        var failures = new List<string>();
        long pruned = 0;
        foreach (var ws in workspaces)
        {
            var counts = new List<string>();
            foreach (var index in active[ws.Index])
            {
                var retention = (await peers[index].Api.ShowWorkspaceAsync(ws.Id, ct).ConfigureAwait(false)).Retention;
                if (retention is null) continue;
                pruned += retention.Pruned;
                counts.Add($"{peers[index].Name} {retention.Pruned} pruned/{retention.Logged} logged");
                if (retention.Fetching > 0) failures.Add($"ws{ws.Index}: {peers[index].Name} still fetches {retention.Fetching} deltas of its image's log");
            }
            parts.Add($"ws{ws.Index}: " + string.Join(", ", counts));
        }
        if (pruned == 0) failures.Add("nothing was pruned anywhere: the run did not exercise pruning");
        return new CheckResult("pruning", failures.Count == 0, string.Join("; ", failures.Count > 0 ? failures : parts));
    }

    public static async Task<CheckResult> ConvergenceAsync(List<SimPeer> peers, List<WorkspaceModel> workspaces, List<List<int>> active, CancellationToken ct)
    {
        var failures = new List<string>();
        var summary = new List<string>();
        foreach (var ws in workspaces)
        {
            var hashes = new List<(string Peer, string Hash, long Deltas, int Buffered)>();
            foreach (var index in active[ws.Index])
            {
                try
                {
                    var d = await peers[index].Api.ShowWorkspaceAsync(ws.Id, ct).ConfigureAwait(false);
                    hashes.Add((peers[index].Name, d.StateHash, d.Deltas, d.Buffered));
                }
                catch (PeerRequestException e)
                {
                    hashes.Add((peers[index].Name, "unavailable: " + e.Message, 0, 0));
                }
            }
            var distinct = hashes.Select(h => h.Hash).Distinct().Count();
            if (distinct == 1 && hashes.All(h => h.Buffered == 0))
                summary.Add($"ws{ws.Index}: {hashes.Count} members, {hashes[0].Deltas} deltas, hash {Short(hashes[0].Hash)}");
            else
                failures.Add($"ws{ws.Index}: " + string.Join(", ", hashes.Select(h => $"{h.Peer}={Short(h.Hash)} ({h.Deltas} deltas, {h.Buffered} buffered)")));
        }
        return failures.Count == 0
            ? new CheckResult("convergence", true, string.Join("; ", summary))
            : new CheckResult("convergence", false, "not converged: " + string.Join("; ", failures));
    }

    /// <summary>Every entry whose creation returned an id (and that no acknowledged delete removed) is at every active member; every invitation arrived.</summary>
    public static async Task<CheckResult> NoLossAsync(List<SimPeer> peers, List<WorkspaceModel> workspaces, List<List<int>> active, CancellationToken ct)
    {
        var missing = new List<string>();
        var expected = 0;
        foreach (var ws in workspaces)
        {
            var wanted = ws.Entries.Where(e => !e.Deleted).ToList();
            expected += wanted.Count;
            foreach (var index in active[ws.Index])
            {
                var have = new HashSet<string>(StringComparer.Ordinal);
                foreach (var tool in EntryTools)
                {
                    try
                    {
                        foreach (var e in await peers[index].Api.EntriesAsync(ws.Id, tool, ct).ConfigureAwait(false)) have.Add(e.Id);
                    }
                    catch (PeerRequestException e)
                    {
                        missing.Add($"{peers[index].Name} cannot list ws{ws.Index} {tool}: {e.Message}");
                    }
                }
                var lost = wanted.Where(e => !have.Contains(e.Id)).ToList();
                if (lost.Count > 0)
                    missing.Add($"{peers[index].Name} lacks {lost.Count} of ws{ws.Index}'s acknowledged entries (e.g. {lost[0].Marker} by p{lost[0].Author})");
            }
            foreach (var pending in ws.Pending) missing.Add($"p{pending} never received (or could not accept) its invitation to ws{ws.Index}");
        }
        return missing.Count == 0
            ? new CheckResult("no-loss", true, $"{expected} acknowledged entries at every active member")
            : new CheckResult("no-loss", false, string.Join("; ", missing.Take(5)) + (missing.Count > 5 ? $" (+{missing.Count - 5} more)" : ""));
    }

    /// <summary>
    /// Files: every active member shows the same files view (names, sizes, content hashes, versions,
    /// authors, conflict copies), holds all of its content, and the bytes it serves for each file
    /// hash to what the view says.
    /// </summary>
    public static async Task<CheckResult> FilesAsync(List<SimPeer> peers, List<WorkspaceModel> workspaces, List<List<int>> active, CancellationToken ct)
    {
        var problems = new List<string>();
        var summary = new List<string>();
        foreach (var ws in workspaces.Where(w => w.FilesPut > 0))
        {
            string? first = null;
            string? firstPeer = null;
            var files = 0;
            var conflicts = 0;
            foreach (var index in active[ws.Index])
            {
                var peer = peers[index];
                IReadOnlyList<FileInfoView> view;
                try
                {
                    view = await peer.Api.FilesAsync(ws.Id, ct).ConfigureAwait(false);
                }
                catch (PeerRequestException e)
                {
                    problems.Add($"{peer.Name} cannot list ws{ws.Index}'s files: {e.Message}");
                    continue;
                }
                var text = string.Join("; ", view.OrderBy(f => f.Name, StringComparer.Ordinal)
                    .Select(f => $"{f.Name} {f.Size} {f.Hash} v{f.Version} {f.Author}{(f.ConflictCopy ? " copy" : "")}"));
                if (first is null)
                {
                    first = text;
                    firstPeer = peer.Name;
                    files = view.Count;
                    conflicts = view.Count(f => f.ConflictCopy);
                }
                else if (text != first)
                {
                    problems.Add($"ws{ws.Index}: {peer.Name}'s files view differs from {firstPeer}'s");
                }
                foreach (var f in view)
                {
                    if (!f.ContentComplete)
                    {
                        problems.Add($"{peer.Name} lacks content of ws{ws.Index}/{f.Name}");
                        continue;
                    }
                    using var content = new MemoryStream();
                    try
                    {
                        await peer.Api.GetFileAsync(ws.Id, f.Name, content, ct).ConfigureAwait(false);
                    }
                    catch (PeerRequestException e)
                    {
                        problems.Add($"{peer.Name} cannot read ws{ws.Index}/{f.Name}: {e.Message}");
                        continue;
                    }
                    var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content.ToArray()));
                    if (hash != f.Hash || content.Length != f.Size)
                        problems.Add($"{peer.Name} serves ws{ws.Index}/{f.Name} as {content.Length} bytes hashing {hash[..12]}, its view says {f.Size} bytes {f.Hash[..Math.Min(12, f.Hash.Length)]}");
                }
            }
            summary.Add($"ws{ws.Index}: {ws.FilesPut} puts -> {files} files ({conflicts} conflict copies) alike at {active[ws.Index].Count} members, content hashes verified");
        }
        return problems.Count == 0
            ? new CheckResult("files", true, string.Join("; ", summary))
            : new CheckResult("files", false, string.Join("; ", problems.Take(5)) + (problems.Count > 5 ? $" (+{problems.Count - 5} more)" : ""));
    }

    /// <summary>A removed member's replica shows none of the texts its remover wrote after removing it.</summary>
    public static async Task<CheckResult> RemovedMembersAsync(List<SimPeer> peers, List<WorkspaceModel> workspaces, CancellationToken ct)
    {
        var leaks = new List<string>();
        var checkedCount = 0;
        foreach (var ws in workspaces)
        {
            foreach (var removed in ws.Removed)
            {
                var secrets = ws.AfterRemoval.Where(a => a.Removed == removed).Select(a => a.Marker).ToHashSet(StringComparer.Ordinal);
                if (secrets.Count == 0 || !peers[removed].Up) continue;
                checkedCount++;
                foreach (var tool in EntryTools)
                {
                    IReadOnlyList<EntryView> entries;
                    try
                    {
                        entries = await peers[removed].Api.EntriesAsync(ws.Id, tool, ct).ConfigureAwait(false);
                    }
                    catch (PeerRequestException)
                    {
                        continue; // no copy (never joined, or deleted): nothing readable
                    }
                    foreach (var e in entries)
                        foreach (var value in e.Fields.Values)
                            if (secrets.Contains(value)) leaks.Add($"removed {peers[removed].Name} reads {value} in ws{ws.Index}");
                }
            }
        }
        return leaks.Count == 0
            ? new CheckResult("confidentiality", true, checkedCount == 0 ? "no member was removed before its remover wrote again" :
                $"{checkedCount} removed member(s) read nothing written after their removal")
            : new CheckResult("confidentiality", false, string.Join("; ", leaks.Take(5)));
    }

    /// <summary>No relay file and no peer file (journal, snapshots, logs) holds any text the workload wrote.</summary>
    public static CheckResult AtRest(string? relayHome, IEnumerable<string> peerHomes, string markerPrefix)
    {
        var needle = Encoding.UTF8.GetBytes(markerPrefix);
        var hits = new List<string>();
        var files = 0;
        foreach (var folder in peerHomes.Prepend(relayHome).OfType<string>().Where(Directory.Exists))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                files++;
                byte[] bytes;
                try
                {
                    bytes = File.ReadAllBytes(file);
                }
                catch (IOException e)
                {
                    hits.Add($"{file}: unreadable ({e.Message})");
                    continue;
                }
                if (bytes.AsSpan().IndexOf(needle) >= 0) hits.Add(Path.GetRelativePath(Path.GetDirectoryName(folder)!, file));
            }
        }
        return hits.Count == 0
            ? new CheckResult("at-rest", true, $"no workload text in {files} files ({(relayHome is null ? "peer homes" : "relay and peer homes")})")
            : new CheckResult("at-rest", false, "plaintext found in: " + string.Join(", ", hits.Take(5)));
    }

    public static async Task<CheckResult> LivenessAsync(List<SimPeer> peers, int commandErrors)
    {
        var problems = new List<string>();
        foreach (var peer in peers)
            if (await peer.ProblemAsync().ConfigureAwait(false) is { } problem) problems.Add(problem);
        return problems.Count == 0
            ? new CheckResult("liveness", true, $"{peers.Count} actor trees alive; {commandErrors} commands timed out")
            : new CheckResult("liveness", false, string.Join("; ", problems));
    }

    /// <summary>
    /// The hostile member dials <paramref name="victim"/> and sends, each followed by a barrier: a
    /// bad signature and an impersonation, its genuine message, an escalation, a replay, garbage.
    /// Then: no replica shows any forged text, the genuine message (whose id the forgeries used) is
    /// everywhere, the victim counted the escalation as rejected, and everyone converges again.
    /// </summary>
    public static async Task<CheckResult> IntegrityAsync(HostileMember hostile, SimPeer victim, List<SimPeer> peers, WorkspaceModel ws, List<int> active,
        string marker, TimeSpan patience, CancellationToken ct)
    {
        try
        {
            return await InjectAndCheckAsync(hostile, victim, peers, ws, active, marker, patience, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Peer.Links.LinkException or TimeoutException)
        {
            return new CheckResult("integrity", false, $"the injection at {victim.Name} could not complete: {e.Message}");
        }
    }

    private static async Task<CheckResult> InjectAndCheckAsync(HostileMember hostile, SimPeer victim, List<SimPeer> peers, WorkspaceModel ws,
        List<int> active, string marker, TimeSpan patience, CancellationToken ct)
    {
        const string Name = "integrity";
        if (!hostile.Joined) return new CheckResult(Name, false, "set-up: the hostile member never received its invitation");
        var link = await hostile.DialAsync(victim.ParsedCard!.Devices[0].Id, victim.Address).ConfigureAwait(false);
        var target = (await victim.Api.ShowWorkspaceAsync(ws.Id, ct).ConfigureAwait(false)).StateHash;
        var deadline = DateTime.UtcNow + patience;
        while (hostile.StateHash() != target)
        {
            if (DateTime.UtcNow > deadline) return new CheckResult(Name, false, "set-up: the hostile member (honest so far) never caught up with " + victim.Name);
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        var before = await victim.Api.ShowWorkspaceAsync(ws.Id, ct).ConfigureAwait(false);
        var injection = hostile.Forge(victim.Name, marker);
        var wsId = injection.Workspace;
        hostile.SendBatch(link, wsId, [injection.BadSignature, injection.Impersonation]);
        await hostile.BarrierAsync(link, wsId, patience).ConfigureAwait(false);
        hostile.SendBatch(link, wsId, injection.Genuine);
        await hostile.BarrierAsync(link, wsId, patience).ConfigureAwait(false);
        hostile.SendBatch(link, wsId, [injection.Escalation]);
        await hostile.BarrierAsync(link, wsId, patience).ConfigureAwait(false);
        hostile.SendBatch(link, wsId, [injection.Replay]);
        await hostile.BarrierAsync(link, wsId, patience).ConfigureAwait(false);
        var garbageNote = "garbage delta acked";
        try
        {
            hostile.SendBatch(link, wsId, [injection.Garbage]);
            await hostile.BarrierAsync(link, wsId, patience).ConfigureAwait(false);
        }
        catch (Peer.Links.LinkException e)
        {
            garbageNote = "garbage delta closed the link (" + e.Message + ")";
        }

        // Everyone converges again and holds the genuine message, none of the forged ones.
        var problems = new List<string>();
        var rejectedAt = 0;
        deadline = DateTime.UtcNow + patience;
        while (true)
        {
            problems.Clear();
            rejectedAt = 0;
            string? hash = null;
            foreach (var index in active)
            {
                var peer = peers[index];
                var d = await peer.Api.ShowWorkspaceAsync(ws.Id, ct).ConfigureAwait(false);
                hash ??= d.StateHash;
                if (d.StateHash != hash) problems.Add("state hashes differ after the injection");
                if (d.Rejected > 0) rejectedAt++;
                var texts = new List<string>();
                foreach (var tool in new[] { ToolKind.Chat, ToolKind.Discussion })
                    texts.AddRange((await peer.Api.EntriesAsync(ws.Id, tool, ct).ConfigureAwait(false)).SelectMany(e => e.Fields.Values));
                foreach (var forbidden in injection.ForbiddenTexts.Where(texts.Contains)) problems.Add($"{peer.Name} applied a forged delta ({forbidden})");
                if (!texts.Contains(injection.GenuineText)) problems.Add($"{peer.Name} lacks the hostile member's genuine message (a forgery burned its id?)");
            }
            var victimAfter = await victim.Api.ShowWorkspaceAsync(ws.Id, ct).ConfigureAwait(false);
            if (victimAfter.Rejected <= before.Rejected) problems.Add($"{victim.Name} did not count the escalation as rejected");
            // A forged text that was applied never goes away: stop at once; otherwise wait for the genuine message to spread.
            if (problems.Count == 0 || problems.Any(p => p.Contains("forged", StringComparison.Ordinal)) || DateTime.UtcNow > deadline) break;
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
        return problems.Count == 0
            ? new CheckResult(Name, true,
                $"bad signature, impersonation, escalation, replay injected at {victim.Name}: none applied anywhere; genuine message at all {active.Count}; " +
                $"escalation rejected at {victim.Name} ({rejectedAt}/{active.Count} replicas count a rejection); {garbageNote}")
            : new CheckResult(Name, false, string.Join("; ", problems.Distinct().Take(5)));
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}

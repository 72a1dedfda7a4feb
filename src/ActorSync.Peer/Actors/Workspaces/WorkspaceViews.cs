using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Peer.Api;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>Read models of a replica for the API: pure functions of its state.</summary>
internal static class WorkspaceViews
{
    public static WorkspaceSummary Summary(Replica r) =>
        new(r.Id.ToString(), r.State.Current.Name, r.State.Current.RoleOf(r.Account)?.Name() ?? "none", r.State.Current.Members.Count);

    public static WorkspaceDetails Details(Replica r, IReadOnlyDictionary<DeviceId, MemberSync> sync, RelayBacklog? backlog = null,
        IReadOnlyDictionary<(DeviceId, Core.Causality.DeltaId), Core.Lifecycle.DeletionReceipt>? receipts = null, Func<DeviceId, bool>? dormant = null,
        bool selfDormant = false)
    {
        var admin = r.State.Current;
        var members = admin.Members.Values.Select(m => new MemberView(
            m.Id.ToString(), m.Name, m.Role.Name(),
            m.Card.Devices.Select(d =>
            {
                var s = sync.GetValueOrDefault(d.Id);
                var own = d.Id == r.Device;
                var applied = own ? r.State.AppliedCount : s?.Known.Entries.Sum(e => (long)e.Seq) ?? 0;
                var pending = own || s is null ? 0 : r.CountMissing(s.Known);
                // Reachable through the relay only means the device itself may well be offline.
                var presence = own ? (selfDormant ? "this device (dormant)" : "this device")
                    : dormant?.Invoke(d.Id) == true ? "dormant"
                    : s is { LinkUp: true, Route: "direct" } ? "online" : "offline";
                return new MemberDeviceView(d.Id.ToString(), presence,
                    own ? "local" : s?.LinkUp == true ? s.Route : "none", applied, pending, own ? null : backlog?.WaitingFor(d.Id));
            }).ToList())).ToList();
        return new WorkspaceDetails(r.Id.ToString(), admin.Name, admin.RoleOf(r.Account)?.Name() ?? "none", r.State.StateHash(),
            r.State.AppliedCount, r.BufferedCount, r.ParkedCount, r.Rejected.Count, members,
            admin.Tools.Values.Select(t => $"{t.Id} ({t.Kind.ToString().ToLowerInvariant()})").ToList())
        {
            Removed = Removed(r, receipts?.Values ?? []),
            Dormant = selfDormant,
            Retention = Retention(r, sync, dormant),
        };
    }

    /// <summary>
    /// What pruning would go by: a delta every active member device has confirmed (by summary or
    /// ack, not merely been sent) is no longer needed to sync the current members; the devices
    /// that have not confirmed some of the log pin it. Dormant devices pin nothing.
    /// </summary>
    private static RetentionView Retention(Replica r, IReadOnlyDictionary<DeviceId, MemberSync> sync, Func<DeviceId, bool>? dormant)
    {
        var active = r.State.Current.Members.Values
            .SelectMany(m => m.Card.Devices.Select(d => (Member: m.Name, Device: d.Id)))
            .Where(x => x.Device != r.Device && dormant?.Invoke(x.Device) != true)
            .Select(x => (x.Member, x.Device, Confirmed: sync.GetValueOrDefault(x.Device)?.Confirmed ?? Core.Causality.VersionVector.Empty))
            .ToList();
        var missing = new long[active.Count];
        long heldByAll = 0;
        for (var i = 0; i < r.LogCount; i++)
        {
            var id = r.LogAt(i).Id;
            var all = true;
            for (var k = 0; k < active.Count; k++)
            {
                if (active[k].Confirmed.Contains(id)) continue;
                missing[k]++;
                all = false;
            }
            if (all) heldByAll++;
        }
        var pins = active.Select((a, k) => new PinView(a.Member, a.Device.ToString(), missing[k])).Where(p => p.Deltas > 0).ToList();
        return new RetentionView(r.LogCount, heldByAll, pins, Math.Max(0, r.State.AppliedCount - r.LogCount - r.Adoptable.Count), r.Adoptable.Count);
    }

    private static List<RemovedMemberView> Removed(Replica r, IEnumerable<Core.Lifecycle.DeletionReceipt> receipts)
    {
        var admin = r.State.Admin;
        return admin.Events
            .Where(e => e.Op is Core.Operations.RemoveMember m && !admin.Current.IsMember(m.Member))
            .GroupBy(e => ((Core.Operations.RemoveMember)e.Op).Member)
            .Select(g =>
            {
                var last = g.Last();
                // Only receipts for the latest removal: an older one says nothing of a copy made after a re-invitation.
                var deleted = receipts.Where(x => x.Account == g.Key && x.Removal == last.Meta.Id)
                    .OrderBy(x => x.Device)
                    .Select(x => new DeletionView(x.Device.ToString(), DateTimeOffset.FromUnixTimeMilliseconds(x.DeletedAtMillis).ToString("O")))
                    .ToList();
                return new RemovedMemberView(g.Key.ToString(), admin.Current.CardOf(g.Key)?.Name ?? g.Key.Short, last.Meta.Id.ToString(), deleted);
            })
            .ToList();
    }

    /// <summary>Every tool (membership first) by every role: what it may do, and whether a manager changed it.</summary>
    public static IReadOnlyList<PermissionView> Permissions(Replica r)
    {
        var admin = r.State.Current;
        var tools = new[] { (Id: ToolId.Workspace, Kind: ToolKind.Workspace) }.Concat(admin.Tools.Values.Select(t => (t.Id, t.Kind)));
        return tools.SelectMany(t => new[] { Role.Manager, Role.Participant, Role.Guest }.Select(role => new PermissionView(
            t.Id.ToString(), t.Kind.ToString().ToLowerInvariant(), role.Name(),
            PermissionNames.Format(admin.PermissionsOfRole(t.Id, role)), admin.IsOverridden(t.Id, role)))).ToList();
    }

    public static IReadOnlyList<EntryView> Entries(Replica r, ToolKind kind)
    {
        var tool = r.State.DefaultTool(kind);
        if (tool is null) return [];
        var admin = r.State.Current;
        return (r.State.EntriesOf(tool.Value)?.Live ?? []).Select(e => new EntryView(
            e.Id.ToString(), e.Creator.ToString(), admin.CardOf(e.Creator)?.Name ?? e.Creator.Short, e.Created.ToString(),
            e.Values.ToDictionary(v => v.Key, v => v.Value), e.Edited)).ToList();
    }

    public static IReadOnlyList<FileInfoView> Files(Replica r, string? path = null)
    {
        var tool = r.State.DefaultTool(ToolKind.Files);
        if (tool is null || r.State.FilesOf(tool.Value) is not { } files) return [];
        return (path is null ? files.View() : files.ViewOf(path)).Select(f => new FileInfoView(f.Name, f.Version.Size, Convert.ToHexStringLower(f.Version.ContentHash),
            f.Version.AuthorName, f.Version.Version, f.IsConflictCopy, files.HasContent(f.Version))).ToList();
    }
}

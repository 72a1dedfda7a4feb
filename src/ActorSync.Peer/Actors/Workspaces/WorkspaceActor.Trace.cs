using ActorSync.Core.Operations;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>What a replica says of its own sync when asked (actorsync sim prints it when members end apart).</summary>
public sealed partial class WorkspaceActor
{
    /// <summary>Asks a workspace actor how its sync stands (<see cref="SyncTrace"/>): for diagnosis (actorsync sim prints it when members end apart).</summary>
    public sealed record GetSyncTrace;

    /// <summary>
    /// How sync stands at one replica: what it holds (<paramref name="Seen"/>), what it waits for,
    /// what it rejected and why, the membership history it has applied, and per partner device what
    /// it believes that device holds.
    /// </summary>
    public sealed record SyncTrace(string Seen, bool IsMember, string JoinedBy, int Buffered, int Parked, IReadOnlyList<string> Wanted,
        IReadOnlyList<string> Rejected, IReadOnlyList<string> Membership, IReadOnlyList<string> Partners);

    private SyncTrace TraceSync()
    {
        var r = _replica!;
        var membership = r.State.Admin.Events
            .Where(e => e.Op is Core.Operations.InviteMember or RemoveMember or Core.Operations.CreateWorkspace or RotateKey)
            .Select(e => e.Op switch
            {
                Core.Operations.InviteMember i => $"{Short(e.Meta.Id)} by {e.Meta.Author.Short}: invite {i.Card.AccountId.Short} ({i.Card.Name}) as {i.Role}",
                RemoveMember m => $"{Short(e.Meta.Id)} by {e.Meta.Author.Short}: remove {m.Member.Short}",
                RotateKey => $"{Short(e.Meta.Id)} by {e.Meta.Author.Short}: rotate key for {string.Join(" ", e.Meta.Keys?.Recipients.Select(a => a.Short) ?? [])}",
                _ => $"{Short(e.Meta.Id)} by {e.Meta.Author.Short}: create",
            }).ToList();
        var partners = _sync.Values.OrderBy(s => s.Device).Select(s =>
            $"{s.Device.Short}: partner={IsPartner(s.Device)} link={(s.LinkUp ? s.Route : "down")} heard={s.HeardFrom} known={s.Known}").ToList();
        return new SyncTrace(r.Seen.ToString(), r.IsMember, _joinedBy is null ? "" : $"{_joinedBy.Inviter.Name} ({Short(_joinedBy.InviteDelta)})",
            r.BufferedCount, r.ParkedCount, r.Wanted.Select(Short).ToList(),
            r.Rejected.Select(kv => $"{Short(kv.Key)}: {kv.Value}").ToList(), membership, partners);
    }

    private static string Short(Core.Causality.DeltaId id) => id.Device.Short + ":" + id.Seq;
}

using System.Globalization;
using Akka.Actor;
using ActorSync.Core.Identity;
using ActorSync.Peer.Actors.Workspaces;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Simulation.Running;

/// <summary>
/// What a failing run prints after its checks when members ended apart: the membership story and
/// every running peer's own account of its sync of each workspace (<see cref="WorkspaceActor.SyncTrace"/>),
/// with device and account ids replaced by peer names so the lines read as "p3 believes p1 holds ...".
/// </summary>
internal static class SyncDiagnosis
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public static async Task<List<string>> CollectAsync(IReadOnlyList<SimPeer> peers, IReadOnlyList<WorkspaceModel> workspaces, IReadOnlyList<string> story)
    {
        var names = new List<(string Short, string Name)>();
        foreach (var p in peers.Where(p => p.ParsedCard is not null))
        {
            names.Add((p.ParsedCard!.AccountId.Short, p.Name));
            foreach (var d in p.ParsedCard.Devices) names.Add((d.Id.Short, p.Name));
        }
        string Named(string line) => names.Aggregate(line, (l, n) => l.Replace(n.Short, n.Name, StringComparison.Ordinal));

        var lines = new List<string> { "membership story (commands that succeeded or were refused, accepts, faults):" };
        lines.AddRange(story.Select(s => "  " + s));
        foreach (var ws in workspaces)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"ws{ws.Index}: model: joined [{string.Join(' ', ws.Joined.Select(i => peers[i].Name))}], pending [{string.Join(' ', ws.Pending.Select(i => peers[i].Name))}], removed [{string.Join(' ', ws.Removed.Select(i => peers[i].Name))}]"));
            foreach (var peer in peers)
            {
                if (peer.Host is not { } host) continue;
                object answer;
                try
                {
                    answer = await host.System.ActorSelection("/user/device/workspaces")
                        .Ask(new ToWorkspace(WorkspaceId.Parse(ws.Id), new WorkspaceActor.GetSyncTrace()), AskTimeout).ConfigureAwait(false);
                }
                catch (AskTimeoutException)
                {
                    lines.Add($"  {peer.Name}: does not answer");
                    continue;
                }
                if (answer is not WorkspaceActor.SyncTrace t)
                {
                    lines.Add($"  {peer.Name}: no replica ({(answer is Refused r ? r.Reason : answer.GetType().Name)})");
                    continue;
                }
                lines.Add(Named(string.Create(CultureInfo.InvariantCulture,
                    $"  {peer.Name}: member={t.IsMember} seen={t.Seen} buffered={t.Buffered} parked={t.Parked} joined-by={t.JoinedBy}")));
                if (t.Wanted.Count > 0) lines.Add(Named("    wants " + string.Join(", ", t.Wanted.Take(10))));
                foreach (var m in t.Membership) lines.Add(Named("    applied " + m));
                foreach (var r in t.Rejected.Take(10)) lines.Add(Named("    rejected " + r));
                foreach (var s in t.Partners) lines.Add(Named("    partner " + s));
            }
        }
        return lines;
    }
}

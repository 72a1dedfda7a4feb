using Akka.Actor;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>Committing what commands authored: written to the journal, then answered, then sent to the members.</summary>
public sealed partial class WorkspaceActor
{
    private static object Reply(AuthorResult result) => result.Ok ? new Authored(result.Last.Id) : new Refused(result.Rejection!);

    /// <summary>
    /// Authors each operation in turn, signed together; a refusal stops there, and what was
    /// authored before it is still committed (it is applied in memory already) but the answer is
    /// the refusal.
    /// </summary>
    private void AuthorMany(ToolId tool, IReadOnlyList<DeltaOp> ops)
    {
        var result = _replica!.AuthorMany(tool, ops, ops.Count, _peer.NowMillis);
        CommitDeltas(result.Deltas, result.Ok
            ? new AuthoredMany(result.Authored)
            : new Refused($"entry {result.Authored.Count + 1} of {ops.Count}: {result.Rejection}"));
    }

    /// <summary>
    /// Persists what a command authored (a refused one may carry a key rotation authored before
    /// it), then answers, then runs <paramref name="then"/> unless it was refused.
    /// </summary>
    private void Commit(AuthorResult result, Action? then = null)
    {
        var sender = Sender;
        var reply = Reply(result);
        var next = result.Ok ? then : null;
        CommitThen(result.Deltas, () =>
        {
            sender.Tell(reply);
            next?.Invoke();
        });
    }

    /// <summary>Deltas already applied in memory must reach the journal whatever the answer is.</summary>
    private void CommitDeltas(IReadOnlyList<SealedDelta> deltas, object reply)
    {
        var sender = Sender;
        CommitThen(deltas, () => sender.Tell(reply));
    }

    /// <summary>Writes applied deltas as one journal event; once it is durable, <paramref name="answer"/> runs and the members get them.</summary>
    private void CommitThen(IReadOnlyList<SealedDelta> deltas, Action answer)
    {
        if (deltas.Count == 0)
        {
            answer();
            return;
        }
        // PersistAsync: commands go on being decided (against the replica in memory, which already
        // holds these deltas) while the write is in flight, so the journal batches the writes of
        // many commands into one transaction; each is answered only once its own write is durable.
        var seen = _replica!.Seen;
        // As the log keeps them: file content is in the chunk pack, not held here until the write completes.
        var logged = Logged(deltas);
        PersistAsync(Recorded(logged), _ =>
        {
            _durable = seen;
            answer();
            AfterApplied(logged, from: null);
        });
    }
}

using ActorSync.Core.Identity;
using ActorSync.Protocol.Journal;
using Akka.Actor;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceBackupProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Import: the workspace actor verifies and journals the export first; only then does the manager
/// record that this device holds the workspace, so a refused or failed import leaves no workspace
/// behind (the actor of a refused one stays idle and empty, and is reused by a retry).
/// </summary>
public sealed partial class WorkspaceManager
{
    private readonly HashSet<WorkspaceId> _importing = [];

    /// <summary>The workspace actor's answer to an import, with whom to tell.</summary>
    private sealed record ImportAnswered(WorkspaceId Workspace, object Reply, IActorRef ReplyTo);

    private void Import(ImportWorkspace import)
    {
        var id = import.Workspace;
        if (_left.ContainsKey(id))
        {
            Sender.Tell(new Refused("this device was removed from that workspace and erased its copy; it cannot be imported here", 410));
            return;
        }
        if (_known.Contains(id) || !_importing.Add(id))
        {
            Sender.Tell(new Refused("this device holds that workspace already", 409));
            return;
        }
        var replyTo = Sender;
        // Verifying costs ~50 µs a delta on a loaded core: give large exports the time they need.
        var timeout = _peer.Settings.AskTimeout + TimeSpan.FromMilliseconds(import.Deltas.Count);
        Start(id).Ask(import, timeout).PipeTo(Self,
            success: reply => new ImportAnswered(id, reply, replyTo),
            failure: e => new ImportAnswered(id, new Refused("the import did not finish: " + e.GetType().Name, 500), replyTo));
    }

    private void Imported(ImportAnswered answered)
    {
        // A 409 from the actor means it holds the workspace already: an earlier import finished
        // after its answer timed out. Record it now, so the workspace is not left unlisted.
        if (answered.Reply is not (Created or Refused { Status: 409 }))
        {
            _importing.Remove(answered.Workspace);
            answered.ReplyTo.Tell(answered.Reply);
            return;
        }
        Persist(new WorkspaceCreated { Workspace = ByteString.CopyFrom(answered.Workspace.ToBytes()) }, _ =>
        {
            _importing.Remove(answered.Workspace);
            _known.Add(answered.Workspace);
            answered.ReplyTo.Tell(answered.Reply);
        });
    }
}

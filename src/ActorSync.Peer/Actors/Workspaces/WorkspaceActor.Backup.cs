using ActorSync.Core.Backup;
using ActorSync.Core.Crypto;
using ActorSync.Protocol.Journal;
using Akka.Actor;
using Akka.Event;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceBackupProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Backup: export the workspace (keyring and sealed deltas, as journaled) and rebuild a new one
/// from such an export. The rebuilt workspace is journaled as if created here (WorkspaceCreated,
/// the keyring wrapped for this account, the deltas in batches), so recovery needs nothing new.
/// </summary>
public sealed partial class WorkspaceActor
{
    /// <summary>Deltas per journal event on import: one event per batch as sync writes them, bounded in size.</summary>
    private const int ImportBatch = 512;

    private void ExportTo(IActorRef sender)
    {
        // The log as it stands now (entries, not content); later deltas are not in this export.
        var replica = _replica!;
        if (replica.PrunedMax.Count > 0 || replica.Adoptable.Count > 0)
        {
            // An export is the signed history, verified delta by delta on import: a pruned log no longer is one.
            sender.Tell(new Refused("this workspace's log has been pruned (every member held those deltas); exporting a pruned workspace is not supported yet", 409));
            return;
        }
        var entries = replica.Entries.ToList();
        sender.Tell(new WorkspaceExport(_id, replica.Keyring.Export(), entries.Select(replica.Load)));
    }

    private void Import(ImportWorkspace import)
    {
        var sender = Sender;
        if (_replica is not null)
        {
            sender.Tell(new Refused("this device holds that workspace already", 409));
            return;
        }
        if (import.Workspace != _id)
        {
            sender.Tell(new Refused("the export is of another workspace"));
            return;
        }
        // Verification happens before anything is journaled: a refused file leaves no trace.
        // File content goes to the chunk pack as it verifies; a refused import leaves only unreferenced bytes there.
        var replica = WorkspaceRebuild.Rebuild(_id, _peer.Account, _peer.Device, import.Keyring, import.Deltas, out var refusal, _chunks);
        if (replica is null)
        {
            _log.Warning("Import of workspace {Workspace} refused: {Reason}", _id, refusal);
            sender.Tell(new Refused("the export does not verify: " + refusal));
            return;
        }
        _replica = replica;
        var wrapped = KeyWrap.Wrap(_replica.Keyring.Export(), _peer.Account.Agreement.PublicKeyBytes, KeyContext);
        var events = new List<object>
        {
            new WorkspaceCreated { Workspace = ByteString.CopyFrom(_id.ToBytes()) },
            new KeyringRecorded { Wrapped = ByteString.CopyFrom(wrapped) },
        };
        events.AddRange(_replica.Entries.Chunk(ImportBatch).Select(Recorded));
        var last = events[^1];
        var seen = _replica.Seen;
        PersistAll(events, e =>
        {
            if (!ReferenceEquals(e, last)) return;
            _durable = seen;
            _log.Info("Workspace {Workspace} imported: {Deltas} deltas", _id, _replica.State.AppliedCount);
            sender.Tell(new Created(_id));
            // Normal sync from here: the members' devices are tracked and summaries go out as links come up.
            LearnMembers();
            _links.Tell(new Links.LinkProtocol.GetLinks());
        });
    }
}

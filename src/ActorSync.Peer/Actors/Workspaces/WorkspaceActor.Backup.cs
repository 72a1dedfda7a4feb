using ActorSync.Core.Backup;
using ActorSync.Core.Crypto;
using ActorSync.Core.Replication;
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
        var entries = replica.Entries.ToList();
        // Pruned: the state those deltas built goes as an image (what an invitee would get), and the deltas are the log left.
        var image = replica.PrunedMax.Count > 0 || replica.Adoptable.Count > 0 ? replica.WriteImage(ImageLog.Transfer) : null;
        if (image is not null && replica.Adoptable.Count > 0)
        {
            sender.Tell(new Refused("this copy started from an image and still fetches part of its log; export it once `ws show` says nothing is being fetched", 409));
            return;
        }
        sender.Tell(new WorkspaceExport(_id, replica.Keyring.Export(), entries.Select(replica.Load), image));
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
        var replica = WorkspaceRebuild.Rebuild(_id, _peer.Account, _peer.Device, import.Keyring, import.Deltas, out var refusal, _chunks, import.Image);
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
        var seen = _replica.Seen;
        void Imported()
        {
            _durable = seen;
            _log.Info("Workspace {Workspace} imported: {Deltas} deltas", _id, _replica.State.AppliedCount);
            sender.Tell(new Created(_id));
            // Normal sync from here: the members' devices are tracked and summaries go out as links come up.
            LearnMembers();
            _links.Tell(new Links.LinkProtocol.GetLinks());
        }
        if (import.Image is not null)
        {
            // A pruned workspace's state is its image: a snapshot holds it (journaled deltas alone would not apply).
            PersistAll(events, e =>
            {
                if (e is not KeyringRecorded) return;
                _afterSnapshot = (Imported, reason => sender.Tell(new Refused("the import could not be saved: " + reason, 500)));
                TakeSnapshot();
            });
            return;
        }
        events.AddRange(_replica.Entries.Chunk(ImportBatch).Select(Recorded));
        var last = events[^1];
        PersistAll(events, e =>
        {
            if (ReferenceEquals(e, last)) Imported();
        });
    }
}

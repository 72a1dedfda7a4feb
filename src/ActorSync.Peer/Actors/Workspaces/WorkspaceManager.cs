using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Replication;
using ActorSync.Protocol;
using ActorSync.Protocol.Journal;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// /workspaces (persistence id "workspaces"): remembers which workspaces this device holds, starts a
/// <see cref="WorkspaceActor"/> for each (named by workspace id), creates and joins new ones, and
/// routes API requests and link frames to them.
/// </summary>
public sealed partial class WorkspaceManager : UntypedPersistentActor, IWithTimers
{
    private readonly PeerContext _peer;
    private readonly IActorRef _links;
    private readonly HashSet<WorkspaceId> _known = [];

    // Workspaces this device was removed from and deleted: the signed receipt, still to be shown to these member devices.
    private readonly Dictionary<WorkspaceId, (byte[] Receipt, HashSet<DeviceId> Notify, bool Erased)> _left = [];

    public WorkspaceManager(PeerContext peer, IActorRef links)
    {
        _peer = peer;
        _links = links;
    }

    public static Props Props(PeerContext peer, IActorRef links) => Akka.Actor.Props.Create(() => new WorkspaceManager(peer, links));

    public override string PersistenceId => "workspaces";
    public ITimerScheduler Timers { get; set; } = null!;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case WorkspaceCreated c:
                // Created again after a departure: joined anew by a later invitation.
                _known.Add(WorkspaceId.FromBytes(c.Workspace.Span));
                _left.Remove(WorkspaceId.FromBytes(c.Workspace.Span));
                break;
            case WorkspaceForgotten f:
                _known.Remove(WorkspaceId.FromBytes(f.Workspace.Span));
                break;
            case WorkspaceLeft left:
                RecordLeft(left);
                break;
            case RecoveryCompleted:
                foreach (var id in _known) Start(id);
                Context.System.EventStream.Subscribe(Self, typeof(LinkStateChanged));
                // Erasing again is cheap and idempotent; the receipts follow it.
                foreach (var left in _left.Keys) Erase(left);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case CreateWorkspace create:
                var id = WorkspaceId.New();
                AddThen(id, child => child.Forward(new Initialize(create.Name, null)));
                break;
            case JoinWorkspace join:
                Invitation invitation;
                try
                {
                    invitation = InvitationCodec.Decode(join.Invitation);
                }
                catch (WireFormatException e)
                {
                    Sender.Tell(new Refused("not a valid invitation: " + e.Message));
                    return;
                }
                // A signed invitation may still be for someone else or carry keys this account cannot
                // open; refuse it before its workspace id is taken, so the genuine one can still join.
                if (invitation.Invitee != _peer.Account.Id)
                {
                    Sender.Tell(new Refused("that invitation is for another account"));
                    return;
                }
                try
                {
                    using var ring = new Core.Crypto.EpochKeyring(invitation.Workspace);
                    ring.Import(Core.Crypto.KeyWrap.Unwrap(invitation.WrappedKeyring, _peer.Account.Agreement, Invitation.KeyContext(invitation.Workspace)));
                }
                catch (WireFormatException e)
                {
                    Sender.Tell(new Refused("the invitation's keys cannot be opened by this account: " + e.Message));
                    return;
                }
                if (_known.Contains(invitation.Workspace))
                {
                    Sender.Tell(new Refused("this device holds that workspace already", 409));
                    return;
                }
                if (_left.TryGetValue(invitation.Workspace, out var left) && !left.Erased)
                {
                    Sender.Tell(new Refused("this device is still erasing its old copy of that workspace; try again shortly", 409));
                    return;
                }
                AddThen(invitation.Workspace, child => child.Forward(new Initialize(null, join.Invitation)));
                break;
            case ToWorkspace to when _known.Contains(to.Workspace):
                Child(to.Workspace).Forward(to.Message);
                break;
            case ToWorkspace to when _left.ContainsKey(to.Workspace):
                Sender.Tell(new Refused($"this device was removed from workspace {to.Workspace} and deleted its copy", 410));
                break;
            case WorkspaceDeleted deleted:
                Left(deleted);
                break;
            case Erased erased:
                OnErased(erased);
                break;
            case Terminated ended when WorkspaceId.TryParse(ended.ActorRef.Path.Name, out var gone) && _left.ContainsKey(gone):
                Erase(gone);
                break;
            case Terminated:
                break;
            case RetryErase retry:
                Erase(retry.Workspace);
                break;
            case LinkStateChanged { Up: true } change:
                SendReceipts(change.Device);
                break;
            case LinkStateChanged:
                break;
            case ToWorkspace to:
                Sender.Tell(new Refused($"no workspace {to.Workspace} on this device", 404));
                break;
            case InboundFrame frame:
                if (WorkspaceOf(frame.Frame) is { } ws && _known.Contains(ws)) Child(ws).Forward(frame);
                break;
            case DurabilityBarrier barrier:
                // Every workspace passes it once its earlier writes are durable; one that does not answer holds it back.
                var passed = _known.Select(w => Child(w).Ask<WorkspaceProtocol.Flushed>(WorkspaceProtocol.Flush.Instance, _peer.Settings.AskTimeout)).ToList();
                var replyTo = barrier.ReplyTo.IsNobody() ? Sender : barrier.ReplyTo;
                Task.WhenAll(passed).PipeTo(replyTo, success: _ => new BarrierPassed(barrier.Id), failure: _ => new BarrierPassed(barrier.Id, Ok: false));
                break;
            case Device.DeviceProtocol.WhenReady:
                // Each workspace answers a query only once recovered.
                var recovered = _known.Select(w => Child(w).Ask(new GetSummary(), _peer.Settings.AskTimeout)).ToList();
                Task.WhenAll(recovered).PipeTo(Sender, success: _ => new Device.DeviceProtocol.Ready());
                break;
            case ListWorkspaces:
                var asks = _known.Select(w => Child(w).Ask(new GetSummary(), _peer.Settings.AskTimeout)).ToList();
                Task.WhenAll(asks).PipeTo(Sender, success: all => new WorkspaceList(all.OfType<Api.WorkspaceSummary>().ToList()));
                break;
            case WorkspaceBackupProtocol.ImportWorkspace import:
                Import(import);
                break;
            case ImportAnswered answered:
                Imported(answered);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>A removed workspace's actor has handed over what it wrote: record the departure, stop it, erase its copy, then send the receipt.</summary>
    private void Left(WorkspaceDeleted deleted)
    {
        var left = new WorkspaceLeft { Workspace = ByteString.CopyFrom(deleted.Workspace.ToBytes()), Receipt = ByteString.CopyFrom(deleted.Receipt) };
        foreach (var d in deleted.Notify) left.Devices.Add(d.ToWire());
        Persist(left, e =>
        {
            RecordLeft(e);
            // Erase only once the actor is gone, so no write of its can land after the erasure.
            var child = Context.Child(deleted.Workspace.ToString());
            if (child.IsNobody())
            {
                Erase(deleted.Workspace);
                return;
            }
            Context.Watch(child);
            Context.Stop(child);
        });
    }

    private void RecordLeft(WorkspaceLeft left)
    {
        var id = WorkspaceId.FromBytes(left.Workspace.Span);
        _known.Remove(id);
        try
        {
            _left[id] = (left.Receipt.ToByteArray(), left.Devices.Select(d => d.ToDeviceId()).ToHashSet(), Erased: false);
        }
        catch (WireFormatException)
        {
            _left[id] = (left.Receipt.ToByteArray(), [], Erased: false);
        }
    }

    private sealed record Erased(WorkspaceId Workspace, string? Failure);

    /// <summary>
    /// Erases every row of the workspace's persistence id with SQLite's secure_delete, so the freed
    /// pages are zeroed rather than left holding the old bytes, in the journal and the snapshot
    /// store, and deletes the workspace's chunk pack (file content, sealed). Done here, with the workspace actor stopped, rather than by Akka's DeleteMessages,
    /// which keeps the newest event (marked deleted) to remember the sequence number. Idempotent:
    /// repeated after a restart that came before it finished.
    /// </summary>
    private void Erase(WorkspaceId workspace)
    {
        var persistenceId = workspace.PersistenceId;
        var targets = new[] { (_peer.Home.JournalDatabase, "journal"), (_peer.Home.SnapshotDatabase, "snapshot") }
            .Where(t => File.Exists(t.Item1)).ToList();
        var pack = _peer.Home.ChunkPackOf(workspace);
        Task.Run(() =>
        {
            // The file content (sealed deltas) in the chunk pack goes too; the actor that wrote it is stopped.
            if (File.Exists(pack)) File.Delete(pack);
            foreach (var (file, table) in targets)
            {
                using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Default Timeout=60");
                connection.Open();
                using (var secure = connection.CreateCommand())
                {
                    secure.CommandText = "PRAGMA secure_delete = ON";
                    secure.ExecuteNonQuery();
                }
                using (var exists = connection.CreateCommand())
                {
                    exists.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $table";
                    exists.Parameters.AddWithValue("$table", table);
                    if ((long)exists.ExecuteScalar()! == 0) continue;
                }
                using (var delete = connection.CreateCommand())
                {
                    delete.CommandText = $"DELETE FROM {table} WHERE persistence_id = $id";
                    delete.Parameters.AddWithValue("$id", persistenceId);
                    delete.ExecuteNonQuery();
                }
                // Old page images stay in the WAL until a checkpoint copies them back and truncates it.
                using (var checkpoint = connection.CreateCommand())
                {
                    checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
                    checkpoint.ExecuteNonQuery();
                }
            }
            return new Erased(workspace, null);
        }).PipeTo(Self, failure: e => new Erased(workspace, e.GetBaseException().Message));
    }

    private void OnErased(Erased erased)
    {
        if (!_left.TryGetValue(erased.Workspace, out var left)) return;
        if (erased.Failure is { } reason)
        {
            Context.GetLogger().Error("Erasing the copy of removed workspace {Workspace} failed, retrying: {Reason}", erased.Workspace, reason);
            Timers.StartSingleTimer("erase-" + erased.Workspace, new RetryErase(erased.Workspace), TimeSpan.FromSeconds(10));
            return;
        }
        _left[erased.Workspace] = left with { Erased = true };
        // The invitation it accepted is spent: a later one to this workspace is a new invitation.
        Context.Parent.Tell(new WorkspaceLeftNotice(erased.Workspace));
        Context.GetLogger().Info("Erased this device's copy of workspace {Workspace} after its removal; sending the deletion receipt", erased.Workspace);
        SendReceipts(only: null, erased.Workspace);
    }

    private sealed record RetryErase(WorkspaceId Workspace);

    /// <summary>
    /// Receipts go out once the copy is erased and again whenever a member device is linked: the
    /// frame is idempotent at the members, and this device keeps no workspace to hear acks in.
    /// </summary>
    private void SendReceipts(DeviceId? only, WorkspaceId? workspace = null)
    {
        foreach (var (id, left) in _left)
        {
            if (!left.Erased || (workspace is { } w && w != id) || left.Receipt.Length == 0) continue;
            var frame = new LinkFrame { Receipt = new DeletionReceiptEnvelope { Receipt = ByteString.CopyFrom(left.Receipt) } };
            foreach (var device in left.Notify)
                if (only is null || only == device) _links.Tell(new SendFrame(device, frame));
        }
    }

    private void AddThen(WorkspaceId id, Action<IActorRef> then)
    {
        Persist(new WorkspaceCreated { Workspace = ByteString.CopyFrom(id.ToBytes()) }, _ =>
        {
            _known.Add(id);
            _left.Remove(id);
            then(Start(id));
        });
    }

    private IActorRef Start(WorkspaceId id)
    {
        var child = Context.Child(id.ToString());
        return child.IsNobody() ? Context.ActorOf(WorkspaceActor.Props(id, _peer, _links), id.ToString()) : child;
    }

    private IActorRef Child(WorkspaceId id) => Start(id);

    private static WorkspaceId? WorkspaceOf(LinkFrame frame)
    {
        try
        {
            return frame.BodyCase switch
            {
                LinkFrame.BodyOneofCase.Summary => frame.Summary.Workspace.ToWorkspaceId(),
                LinkFrame.BodyOneofCase.Deltas => frame.Deltas.Workspace.ToWorkspaceId(),
                LinkFrame.BodyOneofCase.Ack => frame.Ack.Workspace.ToWorkspaceId(),
                LinkFrame.BodyOneofCase.Image => frame.Image.Workspace.ToWorkspaceId(),
                LinkFrame.BodyOneofCase.Receipt => Core.Lifecycle.DeletionReceiptCodec.Decode(frame.Receipt.Receipt.Span).Workspace,
                _ => null,
            };
        }
        catch (WireFormatException)
        {
            return null;
        }
    }
}

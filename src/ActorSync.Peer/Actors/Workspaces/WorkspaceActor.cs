using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Protocol;
using ActorSync.Protocol.Journal;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// One workspace on this device (persistence id "ws-&lt;id&gt;"): a thin shell around the pure
/// <see cref="Replica"/>. The journal holds the sealed deltas exactly as applied (ciphertext), file
/// content by its place in the workspace's <see cref="Home.ChunkPack"/>, and the keyring only
/// wrapped for this account. A command is answered once its deltas are durable;
/// remote deltas are acknowledged to their sender once durable.
/// </summary>
public sealed partial class WorkspaceActor : UntypedPersistentActor, IWithTimers
{
    private readonly WorkspaceId _id;
    private readonly PeerContext _peer;
    private readonly IActorRef _links;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<DeviceId, MemberSync> _sync = [];
    private readonly Home.ChunkPack _chunks;
    private Replica? _replica;

    // What is in the journal, as opposed to the replica's memory which runs ahead of it while
    // writes are in flight: acknowledgements and summaries claim only this.
    private Core.Causality.VersionVector _durable = Core.Causality.VersionVector.Empty;
    private Invitation? _joinedBy;
    private ByteString _joinedByBytes = ByteString.Empty;
    // How long recovery took (snapshot load plus journal replay), for the log and actorsync bench.
    private readonly System.Diagnostics.Stopwatch _recovery = System.Diagnostics.Stopwatch.StartNew();
    private bool _fromSnapshot;

    public WorkspaceActor(WorkspaceId id, PeerContext peer, IActorRef links)
    {
        _id = id;
        _peer = peer;
        _links = links;
        _chunks = new Home.ChunkPack(peer.Home.ChunkPackOf(id));
    }

    protected override void PostStop()
    {
        _chunks.Dispose();
        base.PostStop();
    }

    public static Props Props(WorkspaceId id, PeerContext peer, IActorRef links) =>
        Akka.Actor.Props.Create(() => new WorkspaceActor(id, peer, links));

    public override string PersistenceId => _id.PersistenceId;
    public ITimerScheduler Timers { get; set; } = null!;

    private string KeyContext => "self/" + _id;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case SnapshotOffer { Snapshot: WorkspaceSnapshot snapshot }:
                RestoreSnapshot(snapshot);
                _fromSnapshot = true;
                break;
            case WorkspaceCreated:
                _replica = new Replica(_id, _peer.Account, _peer.Device, new EpochKeyring(_id), chunks: _chunks);
                break;
            case KeyringRecorded k when _replica is not null:
                _replica.Keyring.Import(KeyWrap.Unwrap(k.Wrapped.Span, _peer.Account.Agreement, KeyContext));
                break;
            case WorkspaceJoined j:
                _joinedBy = InvitationCodec.Decode(j.Invitation.Span);
                _joinedByBytes = j.Invitation;
                _replica = Replica.Join(_joinedBy, _peer.Account, _peer.Device, _chunks);
                _peer.Known.Learn(_joinedBy.Inviter);
                break;
            case ReceiptRecorded r:
                RecoverReceipt(r);
                break;
            case MemberSeen seen:
                RecoverSeen(seen);
                break;
            case WorkspaceEntered entered:
                RecoverEntered(entered);
                break;
            case DeltasRecorded d when _replica is not null:
                foreach (var bytes in d.Sealed) _replica.Recover(DeltaCodec.Decode(bytes.ToArrayShared()));
                foreach (var stored in d.Stored) RecoverStored(stored);
                break;
            case RecoveryCompleted:
                Started();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>
    /// File content the journal names in the chunk pack: read back one delta at a time (recovery
    /// never holds more than one chunk), checked against the digest the event recorded (recovery
    /// trusts the journal's deltas without verifying signatures, and the pack is a separate file).
    /// One that is missing or damaged is left out: it is not applied, so members send it again.
    /// </summary>
    private void RecoverStored(DeltasRecorded.Types.Stored stored)
    {
        var at = new ChunkLocation(stored.Offset, stored.Length);
        try
        {
            // Parsed first (bounds-checked, as any bytes), then compared whole by their digest.
            var delta = DeltaCodec.Decode(_chunks.Read(at));
            if (!delta.Digest().AsSpan().SequenceEqual(stored.Digest.Span))
                throw new IOException("its bytes do not match the digest the journal recorded");
            _replica!.Recover(delta, at);
        }
        catch (Exception e) when (e is IOException or Core.Encoding.WireFormatException)
        {
            _log.Error("Workspace {Workspace}: file content at {Offset} of the chunk pack cannot be recovered ({Reason}); members will send it again",
                _id, stored.Offset, e.Message);
        }
    }

    private void Started()
    {
        _durable = _replica?.Seen ?? Core.Causality.VersionVector.Empty;
        Context.System.EventStream.Subscribe(Self, typeof(Links.LinkProtocol.LinkStateChanged));
        Timers.StartPeriodicTimer("anti-entropy", new AntiEntropyTick(), _peer.Settings.AntiEntropyInterval);
        if (_replica is null) return;
        LearnMembers(askLinks: false);
        _log.Info("Workspace {Workspace} ready: {Deltas} deltas, recovered in {Millis} ms from {Source}{Detail}", _id, _replica.State.AppliedCount,
            _recovery.ElapsedMilliseconds, _fromSnapshot ? "a snapshot" : "the journal", _snapshotTimes is null ? "" : " (" + _snapshotTimes + ")");
        // Links that came up before this actor existed: ask the link manager which are up.
        _links.Tell(new Links.LinkProtocol.GetLinks());
        // Removed while this device was stopped (or stopped halfway through leaving): leave now.
        CheckRemoved();
        CheckDormant();
        Entered();
    }

    private sealed record AntiEntropyTick;

    protected override void OnCommand(object message)
    {
        if (OnSnapshotResult(message) || OnImagePending(message) || OnLifecycle(message) || OnDormancy(message)) return;
        switch (message)
        {
            case Initialize init when _replica is null:
                InitializeWorkspace(init);
                break;
            case Initialize:
                Sender.Tell(new Refused("the workspace exists already"));
                break;
            case WorkspaceBackupProtocol.ImportWorkspace import:
                Import(import);
                break;
            case WorkspaceProtocol.Flush:
                // Runs after every PersistAsync started before it (Akka keeps their order).
                var flushing = Sender;
                DeferAsync(WorkspaceProtocol.Flushed.Instance, done => flushing.Tell(done));
                break;
            case { } when _replica is null:
                if (message is Links.LinkProtocol.InboundFrame or Links.LinkProtocol.LinkStateChanged or AntiEntropyTick or Links.LinkProtocol.LinkList) return;
                Sender.Tell(new Refused("the workspace is not initialised", 404));
                break;
            case Author a:
                Commit(_replica.Author(a.Tool, a.Op, _peer.NowMillis));
                break;
            case AuthorIn a when _replica.State.DefaultTool(a.Kind) is { } tool:
                Commit(_replica.Author(tool, a.Op, _peer.NowMillis));
                break;
            case AuthorManyIn many when _replica.State.DefaultTool(many.Kind) is { } tool:
                AuthorMany(tool, many.Ops);
                break;
            case AuthorIn or AuthorManyIn:
                var kind = message is AuthorIn one ? one.Kind : ((AuthorManyIn)message).Kind;
                Sender.Tell(new Refused($"the workspace has no {kind.ToString().ToLowerInvariant()} tool", 404));
                break;
            case Invite i:
                InviteMember(i);
                break;
            case SetPermissions set when ToolOf(set.Kind) is { } tool:
                Commit(_replica.Author(ToolId.Workspace, new SetToolPermissions(tool, set.Role, set.Permissions), _peer.NowMillis));
                break;
            case SetPermissions set:
                Sender.Tell(new Refused($"the workspace has no {set.Kind.ToString().ToLowerInvariant()} tool", 404));
                break;
            case GetPermissions:
                Sender.Tell(WorkspaceViews.Permissions(_replica));
                break;
            case Uninvite u:
                Commit(_replica.Uninvite(u.Member, _peer.NowMillis));
                break;
            case PutFileContent put:
                PutFile(put);
                break;
            case GetFileContent get:
                Sender.Tell(ReadFile(get.Name));
                break;
            case GetDetails:
                Sender.Tell(WorkspaceViews.Details(_replica, _sync, _peer.Backlog, _receipts, IsDormant, _dormant) with { EnteredAt = Iso(LastEntered()) });
                break;
            case WorkspaceBackupProtocol.ExportWorkspace:
                ExportTo(Sender);
                break;
            case GetSummary:
                Sender.Tell(WorkspaceViews.Summary(_replica));
                break;
            case GetEntries e:
                Sender.Tell(WorkspaceViews.Entries(_replica, e.Kind));
                break;
            case GetFiles:
                Sender.Tell(WorkspaceViews.Files(_replica));
                break;
            case GetJoinProgress:
                Sender.Tell(new Api.JoinProgress(_id.ToString(), _replica.IsMember && _replica.BufferedCount == 0,
                    _replica.State.AppliedCount, _replica.IsMember ? null : "waiting for the first copy from a member"));
                break;
            default:
                if (!OnSync(message!) && !OnFiles(message!)) Unhandled(message);
                break;
        }
    }

    private static string Iso(long millis) => DateTimeOffset.FromUnixTimeMilliseconds(millis).ToString("O");

    private ToolId? ToolOf(ToolKind kind) => kind == ToolKind.Workspace ? ToolId.Workspace : _replica!.State.DefaultTool(kind);

    private void InitializeWorkspace(Initialize init)
    {
        var sender = Sender;
        if (init.CreateName is { } name)
        {
            _replica = Replica.Create(_id, name, _peer.Account, _peer.Device, _peer.Home.Card, _peer.NowMillis, out var genesis, _chunks);
            var wrapped = KeyWrap.Wrap(_replica.Keyring.Export(), _peer.Account.Agreement.PublicKeyBytes, KeyContext);
            object[] events =
            [
                new WorkspaceCreated { Workspace = ByteString.CopyFrom(_id.ToBytes()) },
                new KeyringRecorded { Wrapped = ByteString.CopyFrom(wrapped) },
                Recorded(Logged([genesis])),
            ];
            var seen = _replica.Seen;
            PersistAll(events, e =>
            {
                if (e is not DeltasRecorded) return;
                _durable = seen;
                sender.Tell(new Created(_id));
            });
            return;
        }
        var bytes = init.JoinInvitation!;
        try
        {
            _joinedBy = InvitationCodec.Decode(bytes);
            _joinedByBytes = ByteString.CopyFrom(bytes);
            _replica = Replica.Join(_joinedBy, _peer.Account, _peer.Device, _chunks);
        }
        catch (Core.Encoding.WireFormatException e)
        {
            _joinedBy = null;
            sender.Tell(new Refused("the invitation cannot be opened: " + e.Message));
            return;
        }
        _peer.Known.Learn(_joinedBy.Inviter);
        Persist(new WorkspaceJoined { Invitation = ByteString.CopyFrom(bytes) }, _ =>
        {
            sender.Tell(new Created(_id));
            // Ask every device of the inviter for the first copy.
            foreach (var d in _joinedBy.Inviter.Devices) SendSummary(SyncOf(d.Id));
            // Links that came up before this workspace existed: without their routes no periodic summaries go out.
            _links.Tell(new Links.LinkProtocol.GetLinks());
        });
    }

    private void InviteMember(Invite invite)
    {
        var result = _replica!.Invite(invite.Card, invite.Role, _peer.NowMillis, out var invitation);
        if (!result.Ok)
        {
            Commit(result); // a key rotation authored before the refusal is committed all the same
            return;
        }
        _peer.Known.Learn(invite.Card);
        Commit(result, then: () => SendInvitation(invitation!));
    }

    /// <summary>Applied deltas as the replica's log keeps them.</summary>
    private List<LoggedDelta> Logged(IEnumerable<SealedDelta> deltas) => deltas.Select(d => _replica!.Logged(d.Id)!).ToList();

    /// <summary>
    /// The journal event for applied deltas: deltas held in memory go in whole, file content by its
    /// place in the chunk pack, which is made durable first, so the event never names bytes a crash
    /// could lose (bytes written without an event are harmless garbage).
    /// </summary>
    private DeltasRecorded Recorded(IEnumerable<LoggedDelta> deltas)
    {
        var e = new DeltasRecorded();
        foreach (var d in deltas)
        {
            // Wrapped, not copied: a logged delta's bytes are final once the replica hands it out (a tree's
            // proofs and signature are filled in before AuthorMany returns) and never written again.
            if (d.HeldBytes is { } held) e.Sealed.Add(UnsafeByteOperations.UnsafeWrap(held));
            else e.Stored.Add(new DeltasRecorded.Types.Stored { Offset = d.Stored!.Value.Offset, Length = d.Stored.Value.Length, Digest = ByteString.CopyFrom(d.Digest) });
        }
        if (e.Stored.Count > 0) _chunks.Flush();
        return e;
    }
}

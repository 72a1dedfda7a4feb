using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Lifecycle;
using ActorSync.Core.Operations;
using ActorSync.Protocol;
using ActorSync.Protocol.Journal;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Uninvite, both sides. A member hands a removed device the deltas up to and including its removal
/// (nothing later: those are under a key it does not get) and keeps its signed deletion receipt.
/// The removed device, once it applies its own removal, hands over what it authored and has the
/// workspace manager erase its copy (journal and snapshots) and send the receipt.
/// </summary>
public sealed partial class WorkspaceActor
{
    private readonly Dictionary<(DeviceId Device, DeltaId Removal), DeletionReceipt> _receipts = [];
    // The receipts as signed, for snapshots (a receipt cannot be re-encoded without its device's key).
    private readonly Dictionary<(DeviceId Device, DeltaId Removal), ByteString> _receiptBytes = [];
    private Leaving? _leaving;

    private sealed record Leaving(DeltaId Removal, ulong OwnSeq, IReadOnlyList<DeviceId> Notify)
    {
        public byte[]? Receipt { get; set; }
        public bool Deleting => Receipt is not null;
    }

    private sealed record HandoverTimedOut;

    private void RecoverReceipt(ReceiptRecorded recorded)
    {
        try
        {
            var receipt = DeletionReceiptCodec.Decode(recorded.Receipt.Span);
            _receipts[(receipt.Device, receipt.Removal)] = receipt;
            _receiptBytes[(receipt.Device, receipt.Removal)] = recorded.Receipt;
        }
        catch (Core.Encoding.WireFormatException e)
        {
            _log.Warning("A recorded deletion receipt of {Workspace} cannot be read: {Reason}", _id, e.Message);
        }
    }

    /// <summary>Handles what uninvite adds; false lets the sync protocol have the message.</summary>
    private bool OnLifecycle(object message)
    {
        switch (message)
        {
            // Once erasing, nothing more may be written or sent.
            case InboundFrame or AntiEntropyTick or LinkStateChanged or LinkList when _leaving is { Deleting: true }:
                return true;
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Receipt } receipt:
                OnReceipt(receipt.Frame.Receipt.Receipt.Memory);
                return true;
            case InboundFrame frame when HasErased(frame.From):
                // It has erased its copy and said so: whatever still comes from it is not a handover.
                return true;
            case InboundFrame frame when RemovalBoundOf(frame.From) is { } bound:
                OnFormerMemberFrame(frame, bound);
                return true;
            case LinkStateChanged { Up: true } change when RemovalBoundOf(change.Device) is { } bound:
                // It may not know it was removed yet: offer what leads up to its removal.
                SendMissing(SyncOf(change.Device), bound);
                return true;
            case HandoverTimedOut when _leaving is { Deleting: false }:
                if (!HandedOver())
                    _log.Warning("No member confirmed this device's own deltas of {Workspace} within {Timeout}: erasing the copy anyway",
                        _id, _peer.Settings.LeaveHandover);
                DeleteCopy();
                return true;
            case Author or AuthorIn or AuthorManyIn or Invite or Uninvite or PutFileContent or SetPermissions or WorkspaceProtocol.Reinvite
                or FileTransferProtocol.BeginUpload or FileTransferProtocol.UploadChunks or FileTransferProtocol.FinishUpload
                or WorkspaceBackupProtocol.ExportWorkspace when _leaving is not null:
                Sender.Tell(new Refused("this device was removed from the workspace; its copy is being deleted", 410));
                return true;
            default:
                return false;
        }
    }

    /// <summary>After deltas are applied: an uninvite this device authored is handed to the removed devices; its own removal starts its departure.</summary>
    private void AfterAppliedLifecycle(IReadOnlyList<Core.Replication.LoggedDelta> deltas, DeviceId? from)
    {
        if (_leaving is { Deleting: false } && _replica!.IsMember)
        {
            // Invited again (the removal was undone) before the copy was erased: stay.
            _leaving = null;
            Timers.Cancel("handover");
            Timers.Cancel("erase-grace");
            _log.Info("This account is a member of workspace {Workspace} again: the copy stays", _id);
        }
        if (!deltas.Any(d => d.Header.Kind == OpKind.RemoveMember)) return;
        if (from is null)
        {
            // Straight to their devices (through the relay when they are offline), bounded by the removal.
            foreach (var removal in _replica!.State.Admin.Events.Where(e => e.Op is RemoveMember && deltas.Any(d => d.Id == e.Meta.Id)))
            {
                var account = ((RemoveMember)removal.Op).Member;
                var card = _replica.State.Current.CardOf(account);
                foreach (var device in card?.Devices ?? [])
                    if (device.Id != _peer.Device.Id && RemovalBoundOf(device.Id) is { } bound) SendMissing(SyncOf(device.Id), bound);
            }
        }
        CheckRemoved();
    }

    /// <summary>Starts the departure if this account is no longer a member because it was removed (not while still joining).</summary>
    private void CheckRemoved()
    {
        if (_leaving is not null || _replica is null || _replica.IsMember) return;
        if (_joinedBy is not null && !_replica.State.IsApplied(_joinedBy.InviteDelta)) return;
        var removal = _replica.State.Admin.RemovalsOf(_peer.Account.Id).LastOrDefault();
        if (removal is null) return;
        var remover = _replica.State.Current.CardOf(removal.Meta.Author)?.Name ?? removal.Meta.Author.Short;
        var notify = _replica.State.Current.Members.Values.SelectMany(m => m.Card.Devices).Select(d => d.Id).Where(d => d != _peer.Device.Id).ToList();
        _leaving = new Leaving(removal.Meta.Id, _replica.State.Applied[_peer.Device.Id], notify);
        _log.Warning("This account was removed from workspace {Workspace} by {Remover}: handing over what it wrote, then deleting the local copy", _id, remover);
        Publish("member", $"{remover} removed you from {_replica.State.Current.Name}; this device deletes its copy");
        // What this device wrote that no member may hold yet (written offline, before it heard of the removal).
        foreach (var device in notify)
        {
            SendMissing(SyncOf(device), bound: null, onlyAuthor: _peer.Device.Id);
            // Members answer a removed device's summary with theirs: that confirms the handover.
            SendSummary(SyncOf(device));
        }
        if (HandedOver()) EraseAfterGrace();
        else Timers.StartSingleTimer("handover", new HandoverTimedOut(), _peer.Settings.LeaveHandover);
    }

    /// <summary>Called on every summary and ack while departing: a member confirming this device's own deltas ends the handover.</summary>
    private void CheckHandover()
    {
        if (_leaving is { Deleting: false } && HandedOver()) EraseAfterGrace();
    }

    /// <summary>
    /// Erases two anti-entropy intervals after the handover, not at once: a member that undid the
    /// removal (invited the account again) sends that invitation in the same burst as the removal,
    /// and it must not find the copy gone. DeleteCopy checks membership again when the time comes.
    /// </summary>
    private void EraseAfterGrace()
    {
        Timers.Cancel("handover");
        if (!Timers.IsTimerActive("erase-grace")) Timers.StartSingleTimer("erase-grace", new HandoverTimedOut(), _peer.Settings.AntiEntropyInterval * 2);
    }

    /// <summary>A remaining member device has said it holds what this device wrote (its summary or ack, not merely a send).</summary>
    private bool HandedOver() =>
        _leaving!.Notify.Any(d => _sync.TryGetValue(d, out var s) && s.HeardFrom && s.Confirmed[_peer.Device.Id] >= _leaving.OwnSeq);

    private void DeleteCopy()
    {
        var leaving = _leaving!;
        Timers.Cancel("handover");
        Timers.Cancel("erase-grace");
        if (_replica!.IsMember)
        {
            _leaving = null;
            return;
        }
        var receipt = new DeletionReceipt(_id, _peer.Account.Id, _peer.Device.Id, leaving.Removal, _peer.NowMillis);
        leaving.Receipt = DeletionReceiptCodec.Encode(receipt, _peer.Device);
        // Journal rows, keyring and file content all live in this persistence id. From here this
        // actor writes nothing; the manager records the departure, stops it, erases its rows and
        // only then sends the receipt.
        _log.Info("Removed from workspace {Workspace}: erasing this device's copy", _id);
        // After the writes still in flight: the manager stops this actor and erases its rows then.
        var deleted = new WorkspaceDeleted(_id, leaving.Receipt, leaving.Notify);
        DeferAsync(deleted, d => Context.Parent.Tell(d));
    }

    /// <summary>True when the device sent a receipt for its account's latest removal: it has nothing more to hand over.</summary>
    private bool HasErased(DeviceId device)
    {
        if (_receipts.Count == 0 || _replica is null || IsPartner(device)) return false;
        foreach (var ((d, removal), receipt) in _receipts)
            if (d == device && _replica.State.Admin.RemovalsOf(receipt.Account).LastOrDefault()?.Meta.Id == removal) return true;
        return false;
    }

    /// <summary>For a device of a removed (and not re-invited) account: the deltas it may still be given, up to and including its removal.</summary>
    private VersionVector? RemovalBoundOf(DeviceId device)
    {
        if (_replica is null || device == _peer.Device.Id || IsPartner(device)) return null;
        VersionVector? bound = null;
        foreach (var removal in _replica.State.Admin.Events)
        {
            if (removal.Op is not RemoveMember r || _replica.State.Current.IsMember(r.Member)) continue;
            if (_replica.State.Current.CardOf(r.Member)?.FindDevice(device) is null) continue;
            bound = (bound ?? VersionVector.Empty).Merge(removal.Meta.Past.With(removal.Meta.Id));
        }
        return bound;
    }

    /// <summary>
    /// A removed device's frames. Its summaries and acks say what it still lacks of its removal's
    /// past (sent, so it learns of its removal; nothing later); a summary showing deltas this replica
    /// lacks is answered with this replica's summary, so it sends them. Its deltas are taken like
    /// anyone's (each is checked at its own causal past, where its author was a member): it may hold
    /// deltas nobody else does (its own, written before its removal reached it, or ones it forwarded,
    /// such as a concurrent invitation of a member this replica has not heard of). Found by
    /// `actorsync sim partitions --seed 7`: p2, removed by p0 while partitioned from it, had invited
    /// p3; the invitation reached only p3, p0 and p1 dropped p2's frames, and the members ended apart.
    /// </summary>
    private void OnFormerMemberFrame(InboundFrame frame, VersionVector bound)
    {
        switch (frame.Frame.BodyCase)
        {
            case LinkFrame.BodyOneofCase.Summary:
            case LinkFrame.BodyOneofCase.Ack:
                var sync = SyncOf(frame.From);
                try
                {
                    var seen = (frame.Frame.BodyCase == LinkFrame.BodyOneofCase.Summary ? frame.Frame.Summary.Seen : frame.Frame.Ack.Applied)
                        .ToVersionVector();
                    if (frame.Frame.BodyCase == LinkFrame.BodyOneofCase.Summary)
                    {
                        sync.Summarised(seen);
                        // Always answered (at most once an interval): besides telling it what to send,
                        // this summary is what confirms its handover so it can erase its copy.
                        if (sync.MayAnswer(_peer.Clock.GetUtcNow(), _peer.Settings.AntiEntropyInterval)) SendSummary(sync);
                    }
                    else
                    {
                        sync.Acknowledged(seen);
                    }
                }
                catch (Core.Encoding.WireFormatException e)
                {
                    _log.Warning("Bad summary from removed device {Device}: {Reason}", frame.From.Short, e.Message);
                    return;
                }
                SendMissing(sync, bound);
                break;
            case LinkFrame.BodyOneofCase.Deltas:
                OnDeltas(frame.From, frame.Frame.Deltas);
                break;
        }
    }

    private void OnReceipt(ReadOnlyMemory<byte> bytes)
    {
        DeletionReceipt parsed;
        try
        {
            parsed = DeletionReceiptCodec.Decode(bytes.Span);
        }
        catch (Core.Encoding.WireFormatException e)
        {
            _log.Warning("Malformed deletion receipt for {Workspace} dropped: {Reason}", _id, e.Message);
            return;
        }
        if (_replica is null || parsed.Workspace != _id || _receipts.ContainsKey((parsed.Device, parsed.Removal))) return;
        var card = _replica.State.Current.CardOf(parsed.Account);
        if (card is null || !DeletionReceiptCodec.Verify(bytes.Span, card, out var receipt))
        {
            _log.Warning("Deletion receipt for {Workspace} with a bad signature or unknown device dropped", _id);
            return;
        }
        if (!_replica.State.IsApplied(receipt!.Removal) || _replica.State.Current.IsMember(receipt.Account)
            || !_replica.State.Admin.RemovalsOf(receipt.Account).Any(e => e.Meta.Id == receipt.Removal))
        {
            // Not (yet) a removal this replica holds: the device sends it again when next linked.
            _log.Debug("Deletion receipt for a removal not applied here yet ({Removal}): dropped", receipt.Removal);
            return;
        }
        var recorded = new ReceiptRecorded { Receipt = ByteString.CopyFrom(bytes.Span) };
        Persist(recorded, _ =>
        {
            _receipts[(receipt.Device, receipt.Removal)] = receipt;
            _receiptBytes[(receipt.Device, receipt.Removal)] = recorded.Receipt;
            var name = card.Name;
            _log.Info("{Name}'s device {Device} deleted its copy of {Workspace}", name, receipt.Device.Short, _id);
            Publish("member", $"{name}'s device deleted its copy of the workspace (signed receipt)");
        });
    }
}

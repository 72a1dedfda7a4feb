using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Sync with member devices: summaries (version vectors) when a link comes up and periodically,
/// what the other side lacks in batches within a window, acks once durable. A new delta is pushed
/// at once by its author; any member forwards any member's deltas when a summary shows they are
/// missing, so a device that reaches only one member still gets everything.
/// </summary>
public sealed partial class WorkspaceActor
{
    private bool OnSync(object message)
    {
        switch (message)
        {
            case LinkStateChanged change when IsPartner(change.Device):
                var sync = SyncOf(change.Device);
                sync.Route = change.Route;
                if (change.Up)
                {
                    // A summary even to a device dormant here: if it is running, its answer wakes it here.
                    sync.LinkUp = true;
                    SendSummary(sync);
                    OfferInvitation(change.Device);
                }
                else
                {
                    sync.LinkLost();
                }
                return true;
            case LinkStateChanged:
                return true;
            case LinkList list:
                foreach (var (device, route) in list.Up.Where(u => IsPartner(u.Key)))
                {
                    var s = SyncOf(device);
                    s.LinkUp = true;
                    s.Route = route;
                    SendSummary(s);
                    OfferInvitation(device);
                }
                return true;
            case InboundFrame inbound when !IsPartner(inbound.From):
                OnFromNonPartner(inbound);
                return true;
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Summary } summary:
                OnSummary(summary.From, summary.Frame.Summary);
                return true;
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Deltas } batch:
                OnDeltas(batch.From, batch.Frame.Deltas);
                return true;
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Ack } ack:
                OnAck(ack.From, ack.Frame.Ack);
                return true;
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Image } image:
                OnImagePart(image.From, image.Frame.Image);
                return true;
            case InboundFrame:
                return true;
            case AntiEntropyTick:
                // Whatever was sent from memory by now was sent; what a member still lacks is read from the pack.
                _chunks.ForgetRecent();
                CheckDormant();
                if (_dormant) return true;
                Entered();
                foreach (var s in _sync.Values.Where(s => s.LinkUp && s.Route == "direct")) SendSummary(s);
                KeepAliveOverRelay();
                RotateIfDue();
                ResendReinvitations();
                MaybeSnapshot();
                return true;
            case GetSyncTrace:
                Sender.Tell(TraceSync());
                return true;
            default:
                return false;
        }
    }


    /// <summary>A frame from a device that was never a member (a removed member's device is handled in WorkspaceActor.Lifecycle).</summary>
    private void OnFromNonPartner(InboundFrame inbound) =>
        _log.Warning("Frame for workspace {Workspace} from {Device}, which is not a member device: dropped", _id, inbound.From.Short);

    /// <summary>Devices this workspace syncs with: every device of every member, and the inviter's while joining.</summary>
    private bool IsPartner(DeviceId device)
    {
        if (device == _peer.Device.Id || _replica is null) return false;
        if (MemberDevices().Contains(device)) return true;
        return _joinedBy is not null && !_replica.IsMember && _joinedBy.Inviter.FindDevice(device) is not null;
    }

    private object? _memberDevicesOf;
    private HashSet<DeviceId> _memberDevices = [];

    // Asked for every frame that arrives and for every member device on every push: scanning every
    // member's card each time was ~5% of an author's CPU in a 50-member workspace (perf, bench
    // fanout). The member map is immutable, so the set is rebuilt only when the map changes.
    private HashSet<DeviceId> MemberDevices()
    {
        var members = _replica!.State.Current.Members;
        if (ReferenceEquals(members, _memberDevicesOf)) return _memberDevices;
        _memberDevices = members.Values.SelectMany(m => m.Card.Devices).Select(d => d.Id).ToHashSet();
        _memberDevicesOf = members;
        return _memberDevices;
    }

    private MemberSync SyncOf(DeviceId device)
    {
        if (!_sync.TryGetValue(device, out var sync)) _sync[device] = sync = new MemberSync(device);
        return sync;
    }

    private void SendSummary(MemberSync sync)
    {
        sync.LastKeepAliveMillis = _peer.NowMillis;
        var summary = new Summary { Workspace = _id.ToWire(), Seen = _durable.ToWire() };
        AddWanted(summary);
        _links.Tell(new SendFrame(sync.Device, new LinkFrame { Summary = summary }));
    }

    private void OnSummary(DeviceId from, Summary summary)
    {
        _reinviting.Remove(from);
        var sync = SyncOf(from);
        try
        {
            sync.Summarised(summary.Seen.ToVersionVector());
        }
        catch (WireFormatException e)
        {
            _log.Warning("Bad summary from {Device}: {Reason}", from.Short, e.Message);
            return;
        }
        sync.LinkUp = true;
        // A device below what this replica pruned cannot use the log (what it lacks is gone): an image, if this device invited it.
        if (_replica!.LacksPruned(sync.Known)) MaybeSendImage(sync);
        else SendMissing(sync);
        if (summary.Wanted.Count > 0) SendWanted(sync, summary.Wanted);
        CheckHandover();
        // Their summary shows deltas this replica lacks: answer with ours, so they send them. Without
        // it a device whose own summaries do not get through stays behind for good: a joiner whose
        // one request for its first copy was lost (it sends periodic summaries only over links it
        // saw come up as direct), found by actorsync sim partitions --seed 7 (p3 joined from p2 and
        // held nothing). At most once per anti-entropy interval per device, so two devices that each
        // lack something do not bounce summaries while the deltas are in flight.
        if (!_replica!.Seen.Dominates(sync.Known) && sync.MayAnswer(_peer.Clock.GetUtcNow(), _peer.Settings.AntiEntropyInterval)) SendSummary(sync);
    }

    private void OnAck(DeviceId from, Ack ack)
    {
        _reinviting.Remove(from);
        var sync = SyncOf(from);
        try
        {
            sync.Acknowledged(ack.Applied.ToVersionVector());
        }
        catch (WireFormatException e)
        {
            _log.Warning("Bad ack from {Device}: {Reason}", from.Short, e.Message);
            return;
        }
        SendMissing(sync);
        CheckHandover();
    }

    /// <summary>
    /// Sends what the device lacks, at most a window of batches ahead of its acks; only deltas within
    /// <paramref name="bound"/> (a removed device's) or by <paramref name="onlyAuthor"/> when given.
    /// </summary>
    private void SendMissing(MemberSync sync, Core.Causality.VersionVector? bound = null, DeviceId? onlyAuthor = null)
    {
        var settings = _peer.Settings;
        var batches = 0;
        var frame = NewBatch();
        var bytes = 0;
        var log = _replica!;
        // Below what this replica pruned the log cannot serve the device (it would only buffer what
        // depends on the missing deltas): an image from its inviter is its way in (MaybeSendImage).
        if (log.LacksPruned(sync.Known, bound)) return;
        while (sync.Cursor < log.LogCount && sync.Known.Contains(log.LogAt(sync.Cursor).Id)) sync.Cursor++;
        for (var i = sync.Cursor; i < log.LogCount; i++)
        {
            var delta = log.LogAt(i);
            if (sync.Known.Contains(delta.Id)) continue;
            if (bound is not null && !bound.Contains(delta.Id)) continue;
            if (onlyAuthor is { } author && delta.Id.Device != author) continue;
            if (bytes > 0 && bytes + delta.Length > settings.MaxBatchBytes)
            {
                Flush(sync, frame);
                if (++batches >= settings.MaxBatchesInFlight) return;
                frame = NewBatch();
                bytes = 0;
            }
            // File content is read from the chunk pack here, a window of batches at a time (what this
            // device just authored, from the pack's memory); either array is final, and wrapped, not copied.
            if (ReadLogged(delta) is not { } sealedBytes) continue;
            frame.Deltas.Deltas.Add(sealedBytes);
            bytes += delta.Length;
            sync.MarkSent(delta.Id);
        }
        if (bytes > 0) Flush(sync, frame);
    }

    private LinkFrame NewBatch() => new() { Deltas = new DeltaBatch { Workspace = _id.ToWire() } };

    private void Flush(MemberSync sync, LinkFrame frame) => _links.Tell(new SendFrame(sync.Device, frame));

    private void OnDeltas(DeviceId from, DeltaBatch batch)
    {
        OnGone(from, batch);
        var sync = SyncOf(from);
        sync.LinkUp = true;
        var applied = new List<LoggedDelta>();
        var adopted = new List<LoggedDelta>();
        var deltas = new List<SealedDelta>(batch.Deltas.Count);
        foreach (var bytes in batch.Deltas)
        {
            try
            {
                deltas.Add(DeltaCodec.Decode(bytes.ToArrayShared()));
            }
            catch (WireFormatException e)
            {
                _log.Warning("Malformed delta from {Device} dropped: {Reason}", from.Short, e.Message);
            }
        }
        // One call for the frame: the replica checks the signatures of a large batch on every core.
        var received = _replica!.ReceiveAll(deltas);
        for (var i = 0; i < deltas.Count; i++)
        {
            var delta = deltas[i];
            var dropped = false;
            foreach (var outcome in received[i])
            {
                switch (outcome.Status)
                {
                    case ReceiveStatus.Applied:
                        applied.Add(_replica.Logged(outcome.Id)!);
                        break;
                    case ReceiveStatus.Adopted:
                        adopted.Add(_replica.Logged(outcome.Id)!);
                        break;
                    case ReceiveStatus.Rejected:
                        _log.Warning("Delta {DeltaId} from {Device} rejected: {Reason}", outcome.Id, from.Short, outcome.Reason);
                        Publish("rejected", $"a delta by {outcome.Id.Device.Short} was rejected: {outcome.Reason}");
                        break;
                    case ReceiveStatus.Dropped:
                        _log.Warning("Delta {DeltaId} from {Device} dropped: {Reason}", outcome.Id, from.Short, outcome.Reason);
                        dropped |= outcome.Id == delta.Id;
                        break;
                    default:
                        break;
                }
            }
            // The sender has it, unless what it sent under that id was a forgery.
            if (!dropped) sync.MarkSent(delta.Id);
        }
        if (applied.Count == 0 && adopted.Count == 0)
        {
            SendAck(from);
            return;
        }
        var seen = _replica!.Seen;
        PersistAsync(Recorded(applied.Concat(adopted)), _ =>
        {
            _durable = seen;
            SendAck(from);
            if (applied.Count > 0) AfterApplied(applied, from);
            // Started from an image: ask for the next window of its log as soon as one arrived.
            if (adopted.Count > 0 && WantsMore()) SendSummary(sync);
        });
    }

    private void SendAck(DeviceId to)
    {
        // A dormant copy still takes deltas (its removal may wait in its mailbox) but tells nobody.
        if (_dormant) return;
        _links.Tell(new SendFrame(to, new LinkFrame { Ack = new Ack { Workspace = _id.ToWire(), Applied = _durable.ToWire() } }));
    }

    /// <summary>After deltas are durable: learn new members, tell the user, and pass the deltas on to every other linked member device.</summary>
    private void AfterApplied(IReadOnlyList<LoggedDelta> deltas, DeviceId? from)
    {
        if (deltas.Any(d => d.Header.Kind is OpKind.InviteMember or OpKind.UpdateMemberCard or OpKind.CreateWorkspace)) LearnMembers();
        if (from is not null) foreach (var d in deltas) Publish(AlertKind(d.Header.Kind), Describe(d));
        AfterAppliedLifecycle(deltas, from);
        // Pushed at once only by their author: if every member that receives a delta pushed it on,
        // each would reach each member n-1 times (measured: it halved throughput with three members
        // and swamps a 50-member workspace). Members still forward: anti-entropy summaries show who
        // lacks what, and whoever holds it sends it (a device that reaches only one member gets
        // everything within an anti-entropy interval).
        if (from is not null)
        {
            RotateIfDue();
            return;
        }
        foreach (var sync in _sync.Values.Where(s => s.LinkUp && IsPartner(s.Device) && !IsDormant(s.Device))) SendMissing(sync);
    }

    /// <summary>Since when this replica has seen a key rotation due (null: none due); paces the fallback rotators.</summary>
    private DateTimeOffset? _rekeyDueSince;

    /// <summary>
    /// When what arrived shows a member lacking the current epoch key (invited concurrently with a
    /// new epoch) or a non-member holding it (concurrent uninvites), rotate now rather than at the
    /// next command someone happens to give: until then that member can read nothing of the epoch
    /// (actorsync sim partitions --seed 7: p3, invited by p2 while p0 removed p2, never could).
    /// Not everyone at once: the members holding the current key, in account id order, take turns,
    /// the first at once, the next after one anti-entropy interval of the gap still showing, and so
    /// on (checked on every tick), so a first in line that is offline, gone or hostile (the sim's
    /// hostile member, seed 7 again) only delays it. Rotations that cross are harmless: the later
    /// one wins, and any gap left triggers another.
    /// </summary>
    private void RotateIfDue()
    {
        var r = _replica;
        if (r is null) return;
        var admin = r.State.Current;
        if (!admin.NeedsRekey || !r.IsMember || !r.Keyring.Has(admin.Epoch))
        {
            _rekeyDueSince = null;
            return;
        }
        var rank = admin.Members.Keys.Where(admin.EpochRecipients.Contains).ToList().IndexOf(_peer.Account.Id);
        if (rank < 0 || admin.Members[_peer.Account.Id].Card.Devices[0].Id != _peer.Device.Id) return;
        var now = _peer.Clock.GetUtcNow();
        _rekeyDueSince ??= now;
        if (now - _rekeyDueSince.Value < rank * _peer.Settings.AntiEntropyInterval) return;
        _rekeyDueSince = null;
        var rotation = r.Rekey(_peer.NowMillis);
        if (!rotation.Ok)
        {
            _log.Warning("Workspace {Workspace}: a key rotation is due but could not be authored: {Reason}", _id, rotation.Rejection);
            return;
        }
        _log.Info("Workspace {Workspace}: rotated the key (a member lacked it or a non-member held it)", _id);
        var seen = r.Seen;
        var logged = Logged(rotation.Deltas);
        PersistAsync(Recorded(logged), _ =>
        {
            _durable = seen;
            AfterApplied(logged, from: null);
        });
    }

    private void LearnMembers(bool askLinks = true)
    {
        var added = false;
        foreach (var member in _replica!.State.Current.Members.Values)
        {
            _peer.Known.Learn(member.Card);
            foreach (var device in member.Card.Devices.Where(d => d.Id != _peer.Device.Id))
            {
                added |= !_sync.ContainsKey(device.Id);
                SyncOf(device.Id);
                _links.Tell(new Track(device.Id));
            }
        }
        // A new member's device may have been linked before it was a member (a contact): its
        // LinkStateChanged went by unheeded, so ask which links are up now.
        if (added && askLinks) _links.Tell(new GetLinks());
    }

    /// <summary>A member device this device invited that has never synced: (re)send its invitation, made afresh from the invite delta.</summary>
    private void OfferInvitation(DeviceId device)
    {
        // Never to a device heard from before (recorded): it joined already, and a dormant copy must
        // be woken by a deliberate re-invitation, not by this resend after the inviter restarts.
        if (_replica is null || SyncOf(device).HeardFrom || _heard.ContainsKey(device)) return;
        var invite = _replica.State.Admin.Events.LastOrDefault(e =>
            e.Meta.Id.Device == _peer.Device.Id && e.Op is InviteMember i && i.Card.FindDevice(device) is not null);
        if (invite?.Op is not InviteMember op || !_replica.State.Current.IsMember(op.Card.AccountId)) return;
        var invitation = new Invitation(_id, _replica.State.Current.Name, _replica.State.Current.Members[_peer.Account.Id].Card,
            op.Card.AccountId, op.Role, invite.Meta.Id,
            Core.Crypto.KeyWrap.Wrap(_replica.Keyring.Export(), op.Card.AgreementPublicKey, Invitation.KeyContext(_id)));
        SendInvitation(invitation, device);
    }

    private void SendInvitation(Invitation invitation, DeviceId? only = null)
    {
        var bytes = InvitationCodec.Encode(invitation, _peer.Device);
        var frame = new LinkFrame { Invitation = new InvitationEnvelope { Invitation = ByteString.CopyFrom(bytes) } };
        var card = _replica!.State.Current.Members.GetValueOrDefault(invitation.Invitee)?.Card;
        foreach (var d in card?.Devices ?? [])
            if (only is null || d.Id == only) _links.Tell(new SendFrame(d.Id, frame));
    }
}

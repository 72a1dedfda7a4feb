using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using ActorSync.Protocol;
using ActorSync.Protocol.Journal;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Dormancy (ARCHITECTURE section 5). A member device not heard from in this workspace for
/// actorsync.workspace.dormant-after is dormant here: no summaries or deltas go to it. A device whose
/// own copy has not been entered for that long (the peer not running it, no member heard, nothing
/// written: a machine stopped or suspended for weeks) stops syncing it until a manager re-invites
/// it; it then catches up from the members, who still hold every delta.
/// Judged on the peer's clock (injectable), from times recorded in the journal.
/// </summary>
public sealed partial class WorkspaceActor
{
    private readonly Dictionary<DeviceId, long> _heard = [];
    private readonly Dictionary<DeviceId, long> _heardRecorded = [];
    private long _entered;
    private long _enteredRecorded;
    private long _reentered;
    private long _trackedSince;
    private bool _dormant;

    /// <summary>How stale a recorded "heard from" may get before it is written again: small against dormant-after, rare against traffic.</summary>
    private long RecordHeardEvery => Math.Max(1, (long)(_peer.Settings.DormantAfter.TotalMilliseconds / 21));

    private void RecoverSeen(MemberSeen seen)
    {
        try
        {
            var device = seen.Device.ToDeviceId();
            _heard[device] = Math.Max(_heard.GetValueOrDefault(device), seen.Millis);
            _heardRecorded[device] = _heard[device];
        }
        catch (Core.Encoding.WireFormatException)
        {
            // A damaged record only makes the device look older; nothing to recover.
        }
    }

    private void RecoverEntered(WorkspaceEntered entered)
    {
        _entered = _enteredRecorded = Math.Max(_entered, entered.Millis);
        if (entered.Reentry) _reentered = Math.Max(_reentered, entered.Millis);
        if (_trackedSince == 0) _trackedSince = entered.Millis;
    }

    /// <summary>The copy is open on a running peer: it counts as entered now (recorded about daily, so a long stop shows).</summary>
    private void Entered()
    {
        if (_dormant || _replica is null || _leaving is not null) return;
        var now = _peer.NowMillis;
        _entered = Math.Max(_entered, now);
        if (now - _enteredRecorded < RecordHeardEvery) return;
        _enteredRecorded = now;
        if (_trackedSince == 0) _trackedSince = now;
        PersistAsync(new WorkspaceEntered { Millis = now }, _ => { });
    }

    private bool OnDormancy(object message)
    {
        switch (message)
        {
            case Reinvited reinvited when _replica is not null:
                OnReinvited(reinvited.Invitation);
                return true;
            case Reinvite reinvite when _replica is not null:
                Reinvite(reinvite.Member);
                return true;
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Deltas } frame when _dormant:
                // Taken (never acknowledged or answered: a dormant copy sends nothing), so that a
                // removal waiting in its mailbox still reaches it and it erases itself.
                OnDeltas(frame.From, frame.Frame.Deltas);
                return true;
            case InboundFrame or LinkStateChanged or LinkList when _dormant && _leaving is null:
                return true;
            case Author or AuthorIn or AuthorManyIn or Invite or Uninvite or PutFileContent or SetPermissions
                or FileTransferProtocol.BeginUpload or FileTransferProtocol.UploadChunks or FileTransferProtocol.FinishUpload when _dormant:
                Sender.Tell(new Refused("this device's copy is dormant (not entered for longer than dormant-after); ask a manager to re-invite it", 409));
                return true;
            case InboundFrame frame when _replica is not null && IsMemberDevice(frame.From):
                Heard(frame.From);
                return false;
            default:
                return false;
        }
    }

    private bool IsMemberDevice(DeviceId device) =>
        _replica!.State.Current.Members.Values.Any(m => m.Card.FindDevice(device) is not null);

    /// <summary>Records that a member device was heard from now; written to the journal only when the last record is getting old.</summary>
    private void Heard(DeviceId device)
    {
        var now = _peer.NowMillis;
        _heard[device] = now;
        if (now - _heardRecorded.GetValueOrDefault(device) < RecordHeardEvery) return;
        _heardRecorded[device] = now;
        PersistAsync(new MemberSeen { Device = device.ToWire(), Millis = now }, _ => { });
    }

    /// <summary>Not heard from for dormant-after, counting from when it joined the workspace if never heard at all (or from this device's own re-entry).</summary>
    private bool IsDormant(DeviceId device)
    {
        if (_replica is null || device == _peer.Device.Id) return false;
        // Re-entering after this device's own dormancy restarts every member's count: the silence was its own.
        // Nor from before this copy first recorded being entered: a journal written before dormancy
        // was tracked has no "heard" records, and every member would otherwise look dormant at once.
        var since = Math.Max(_reentered, _trackedSince == 0 ? _peer.NowMillis : _trackedSince);
        var last = Math.Max(since, _heard.TryGetValue(device, out var heard) ? heard : JoinedAt(device));
        return _peer.NowMillis - last > (long)_peer.Settings.DormantAfter.TotalMilliseconds;
    }

    /// <summary>When the card listing the device entered the workspace (creation, invitation or a card update), by that delta's time.</summary>
    private long JoinedAt(DeviceId device)
    {
        foreach (var e in _replica!.State.Admin.Events)
        {
            var card = e.Op switch
            {
                InviteMember i => i.Card,
                UpdateMemberCard u => u.Card,
                Core.Operations.CreateWorkspace c => c.Creator,
                _ => null,
            };
            if (card?.FindDevice(device) is not null) return e.Meta.Time.Millis;
        }
        return _peer.NowMillis;
    }

    /// <summary>When this device last took part in the workspace: had it open, heard a member, wrote something, or was re-invited.</summary>
    private long LastEntered()
    {
        var last = _entered;
        foreach (var heard in _heard.Values) last = Math.Max(last, heard);
        foreach (var e in _replica!.State.Admin.Events) last = Math.Max(last, e.Meta.Time.Millis);
        var own = _replica.State.Applied[_peer.Device.Id];
        if (own > 0) last = Math.Max(last, _replica.State.TimeOf(new Core.Causality.DeltaId(_peer.Device.Id, own)).Millis);
        return last;
    }

    /// <summary>Checked at start and on every anti-entropy tick: once dormant, the copy stays so until a re-invitation.</summary>
    private void CheckDormant()
    {
        // Never recorded as entered: a journal from before dormancy was tracked, or a brand new copy.
        if (_dormant || _replica is null || !_replica.IsMember || _leaving is not null || _enteredRecorded == 0) return;
        var others = _replica.State.Current.Members.Values.SelectMany(m => m.Card.Devices).Any(d => d.Id != _peer.Device.Id);
        if (!others || _peer.NowMillis - LastEntered() <= (long)_peer.Settings.DormantAfter.TotalMilliseconds) return;
        _dormant = true;
        foreach (var sync in _sync.Values) sync.LinkLost();
        _log.Warning("Workspace {Workspace} is dormant on this device (not entered for longer than {After}): it is no longer synced; a manager must re-invite this device",
            _id, _peer.Settings.DormantAfter);
        Publish("workspace", $"{_replica.State.Current.Name} is dormant on this device; ask a manager to re-invite you");
    }

    /// <summary>
    /// Members that reach each other only through the relay exchange no periodic summaries (an
    /// offline device's mailbox would fill with them), so without this they would hear nothing of
    /// each other in a quiet workspace and each would find the other dormant. About daily per
    /// device, dormant ones included: two running members cut off from each other for longer than
    /// dormant-after find each other again this way (a copy that is itself dormant ignores it).
    /// </summary>
    private void KeepAliveOverRelay()
    {
        var now = _peer.NowMillis;
        foreach (var sync in _sync.Values)
        {
            if (!sync.LinkUp || sync.Route == "direct" || !IsPartner(sync.Device)) continue;
            if (now - sync.LastKeepAliveMillis < RecordHeardEvery) continue;
            sync.LastKeepAliveMillis = now;
            SendSummary(sync);
        }
    }

    /// <summary>A member who may invite re-invites a member whose devices went dormant: a fresh invitation to each, and they count as active here again.</summary>
    // Re-invitations not yet answered: a dormant copy sends nothing until one reaches it, and a
    // frame sent while its link was still coming up is lost, so they are sent again on every tick
    // (for an hour) until the device is heard from.
    private readonly Dictionary<DeviceId, (Invitation Invitation, long At)> _reinviting = [];

    private void ResendReinvitations()
    {
        if (_reinviting.Count == 0) return;
        var now = _peer.NowMillis;
        foreach (var (device, (invitation, at)) in _reinviting.ToList())
        {
            if (now - at > (long)TimeSpan.FromHours(1).TotalMilliseconds) _reinviting.Remove(device);
            else SendInvitation(invitation, device);
        }
    }

    private void Reinvite(AccountId member)
    {
        var admin = _replica!.State.Current;
        if (!admin.Can(_peer.Account.Id, ToolId.Workspace, Core.Permissions.Permission.Invite))
        {
            Sender.Tell(new Refused("not permitted to invite"));
            return;
        }
        if (!admin.Members.TryGetValue(member, out var m))
        {
            Sender.Tell(new Refused("not a member (invite them instead)", 404));
            return;
        }
        var invite = _replica.State.Admin.Events.LastOrDefault(e => e.Op is InviteMember i && i.Card.AccountId == member);
        if (invite is null)
        {
            Sender.Tell(new Refused("that member was never invited (the workspace's creator): it cannot be re-invited"));
            return;
        }
        // An invitation is signed by the device that authored its invite delta (receivers check it).
        if (invite.Meta.Id.Device != _peer.Device.Id)
        {
            var inviter = admin.CardOf(invite.Meta.Author)?.Name ?? invite.Meta.Author.Short;
            Sender.Tell(new Refused($"only the device that invited them ({inviter}'s) can re-invite them", 409));
            return;
        }
        var invitation = new Invitation(_id, admin.Name, admin.Members[_peer.Account.Id].Card, member, m.Role, invite.Meta.Id,
            Core.Crypto.KeyWrap.Wrap(_replica.Keyring.Export(), m.Card.AgreementPublicKey, Invitation.KeyContext(_id)));
        var now = _peer.NowMillis;
        var devices = m.Card.Devices.Where(d => d.Id != _peer.Device.Id).Select(d => d.Id).ToList();
        foreach (var d in devices) _heard[d] = now;
        var sender = Sender;
        PersistAllAsync(devices.Select(d => new MemberSeen { Device = d.ToWire(), Millis = now }), _ => { });
        DeferAsync(devices.Count, count =>
        {
            foreach (var d in devices)
            {
                _heardRecorded[d] = now;
                _reinviting[d] = (invitation, now);
            }
            SendInvitation(invitation);
            _links.Tell(new GetLinks());
            sender.Tell(new ReinviteSent(count));
        });
    }

    /// <summary>A fresh invitation to a workspace this device holds: wakes a dormant copy, which then catches up.</summary>
    private void OnReinvited(byte[] bytes)
    {
        if (_replica is null || !_dormant) return;
        Invitation invitation;
        try
        {
            invitation = InvitationCodec.Decode(bytes);
        }
        catch (Core.Encoding.WireFormatException e)
        {
            _log.Warning("A re-invitation to {Workspace} cannot be read: {Reason}", _id, e.Message);
            return;
        }
        var admin = _replica.State.Current;
        if (invitation.Workspace != _id || invitation.Invitee != _peer.Account.Id
            || !admin.Can(invitation.Inviter.AccountId, ToolId.Workspace, Core.Permissions.Permission.Invite))
        {
            _log.Warning("A re-invitation to {Workspace} from someone not permitted to invite here was ignored", _id);
            return;
        }
        try
        {
            // Only keys of epochs this replica has seen opened: an invitation cannot plant one.
            _replica.Keyring.Import(Core.Crypto.KeyWrap.Unwrap(invitation.WrappedKeyring, _peer.Account.Agreement, Invitation.KeyContext(_id)),
                committedOnly: true);
        }
        catch (Core.Encoding.WireFormatException e)
        {
            _log.Warning("The keys of a re-invitation to {Workspace} cannot be opened: {Reason}", _id, e.Message);
            return;
        }
        var now = _peer.NowMillis;
        var wrapped = Core.Crypto.KeyWrap.Wrap(_replica.Keyring.Export(), _peer.Account.Agreement.PublicKeyBytes, KeyContext);
        PersistAll(new IMessage[] { new KeyringRecorded { Wrapped = ByteString.CopyFrom(wrapped) }, new WorkspaceEntered { Millis = now, Reentry = true } }, e =>
        {
            if (e is not WorkspaceEntered) return;
            _entered = _enteredRecorded = _reentered = now;
            _dormant = false;
            // Its gap may have been pruned: the re-inviting device may send an image, taken for a while.
            _imageWelcomeUntil = now + (long)TimeSpan.FromMinutes(30).TotalMilliseconds;
            _log.Info("Workspace {Workspace} re-entered after a re-invitation by {Inviter}: catching up", _id, invitation.Inviter.Name);
            Publish("workspace", $"{invitation.Inviter.Name} re-invited you to {admin.Name}; catching up");
            LearnMembers(askLinks: false);
            _links.Tell(new GetLinks());
        });
    }
}

using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Peer.Actors.Links;
using ActorSync.Peer.Actors.Presence;
using ActorSync.Peer.Actors.Workspaces;
using ActorSync.Peer.Api;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Journal;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Device.DeviceProtocol;

namespace ActorSync.Peer.Actors.Device;

/// <summary>
/// /device (persistence id "device"): this account on this device. Keeps contacts and received
/// invitations, and supervises the workspaces, links and presence subtrees.
/// </summary>
public sealed class DeviceActor : UntypedPersistentActor
{
    private readonly PeerContext _peer;
    private readonly ILinkTransport _transport;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<AccountId, (ContactCard Card, string? Address)> _contacts = [];
    private readonly Dictionary<WorkspaceId, (Invitation Invitation, byte[] Bytes)> _invitations = [];
    private readonly HashSet<WorkspaceId> _accepted = [];
    private IActorRef _workspaces = ActorRefs.Nobody;
    private IActorRef _links = ActorRefs.Nobody;
    private IActorRef _presence = ActorRefs.Nobody;

    public DeviceActor(PeerContext peer, ILinkTransport transport)
    {
        _peer = peer;
        _transport = transport;
    }

    public static Props Props(PeerContext peer, ILinkTransport transport) => Akka.Actor.Props.Create(() => new DeviceActor(peer, transport));

    public override string PersistenceId => "device";

    protected override void PreStart()
    {
        var s = _peer.Settings;
        // The designated relays of this account's card, down the configured transport ladder.
        var ladder = RelayClient.Ladder(_peer.Home.Card.Relays, s.RelayRoutes);
        var relayClient = ladder.Count == 0 ? ActorRefs.Nobody
            : Context.ActorOf(RelayClient.Props(ladder, _peer.Home.Tls, _peer.Home.Card, _peer.Device, _peer.Known, _peer.ListenAddress,
                _peer.Clock, _peer.Backlog, s.DialBackoffMin, s.DialBackoffMax), "relay");
        _links = Context.ActorOf(LinkManager.Props(_peer.Device.Id, _transport, _peer.Known, relayClient, s.DialBackoffMin, s.DialBackoffMax), "links");
        _workspaces = Context.ActorOf(WorkspaceManager.Props(_peer, _links), "workspaces");
        _presence = Context.ActorOf(PresenceActor.Props(_links, _peer.Known, _peer.Clock, s.UnreachableAfter, s.GoneAfter, s.PresenceTick), "presence");
        base.PreStart();
    }

    public IActorRef Presence => _presence;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case ContactRecorded c:
                Remember(ContactCard.Decode(c.Card.Span), c.Address.Length > 0 ? c.Address : null);
                break;
            case InvitationRecorded i:
                var invitation = InvitationCodec.Decode(i.Invitation.Span);
                _invitations[invitation.Workspace] = (invitation, i.Invitation.ToByteArray());
                _peer.Known.Learn(invitation.Inviter);
                break;
            case InvitationDismissed d:
                _accepted.Add(WorkspaceId.FromBytes(d.Workspace.Span));
                break;
            case InvitationForgotten f:
                Forget(WorkspaceId.FromBytes(f.Workspace.Span));
                break;
            case RecoveryCompleted:
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
            case AddContact add:
                AddContactCard(add);
                break;
            case FindContact find:
                Sender.Tell(new ContactFound(_contacts.TryGetValue(find.Account, out var c) ? c.Card : null));
                break;
            case GetContacts:
                var contacts = _contacts.Values.ToList();
                _presence.Ask<PresenceProtocol.PresenceSnapshot>(new PresenceProtocol.GetPresence(), _peer.Settings.AskTimeout)
                    .PipeTo(Sender, success: snapshot => (IReadOnlyList<ContactView>)contacts.Select(c => View(c.Card, c.Address, snapshot)).ToList());
                break;
            case GetInvitations:
                Sender.Tell((IReadOnlyList<InvitationView>)_invitations.Values.Select(i => new InvitationView(
                    i.Invitation.Workspace.ToString(), i.Invitation.WorkspaceName, i.Invitation.Inviter.AccountId.ToString(),
                    i.Invitation.Inviter.Name, i.Invitation.Role.Name(), _accepted.Contains(i.Invitation.Workspace) ? "accepted" : "pending")).ToList());
                break;
            case AcceptInvitation accept:
                Accept(accept.Workspace);
                break;
            case WorkspaceProtocol.WorkspaceLeftNotice left when _accepted.Contains(left.Workspace) || _invitations.ContainsKey(left.Workspace):
                Persist(new InvitationForgotten { Workspace = ByteString.CopyFrom(left.Workspace.ToBytes()) }, _ => Forget(left.Workspace));
                break;
            case WorkspaceProtocol.WorkspaceLeftNotice:
                break;
            case Accepted accepted:
                Persist(new InvitationDismissed { Workspace = ByteString.CopyFrom(accepted.Workspace.ToBytes()) }, _ => _accepted.Add(accepted.Workspace));
                break;
            case LinkProtocol.InboundFrame { Frame.BodyCase: Protocol.Wire.LinkFrame.BodyOneofCase.Invitation } frame:
                ReceiveInvitation(frame.From, frame.Frame.Invitation.Invitation.ToByteArray());
                break;
            case LinkProtocol.InboundFrame frame:
                _workspaces.Forward(frame);
                break;
            case LinkProtocol.DurabilityBarrier barrier:
                // Invitations were persisted before this (Persist stashes what follows it).
                _workspaces.Tell(barrier);
                break;
            case ToWorkspaces to:
                _workspaces.Forward(to.Message);
                break;
            case WhenReady:
                _workspaces.Forward(message);
                break;
            case PresenceProtocol.Seen or PresenceProtocol.GetPresence:
                _presence.Forward(message);
                break;
            case LinkManager.Inbound or LinkProtocol.SendFrame or LinkProtocol.GetLinks:
                _links.Forward(message);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void AddContactCard(AddContact add)
    {
        ContactCard card;
        try
        {
            card = ContactCard.Parse(add.Card);
        }
        catch (WireFormatException e)
        {
            Sender.Tell(new WorkspaceProtocol.Refused("not a valid contact card: " + e.Message));
            return;
        }
        if (add.Address is { } address)
        {
            try { LinkAddress.Parse(address); }
            catch (LinkException e) { Sender.Tell(new WorkspaceProtocol.Refused(e.Message)); return; }
        }
        if (card.AccountId == _peer.Account.Id)
        {
            Sender.Tell(new WorkspaceProtocol.Refused("that is this account's own card"));
            return;
        }
        var sender = Sender;
        Persist(new ContactRecorded { Card = ByteString.CopyFrom(card.Encoded), Address = add.Address ?? "" }, _ =>
        {
            Remember(card, add.Address);
            sender.Tell(View(card, add.Address, null));
        });
    }

    private void Remember(ContactCard card, string? address)
    {
        if (_contacts.TryGetValue(card.AccountId, out var old) && old.Card.IssuedAtMillis > card.IssuedAtMillis) card = old.Card;
        _contacts[card.AccountId] = (card, address ?? old.Address);
        _peer.Known.Learn(card);
        if (address is null) return;
        foreach (var d in card.Devices) _presence.Tell(new PresenceProtocol.AddressHint(card.AccountId, d.Id, address));
    }

    private void ReceiveInvitation(DeviceId from, byte[] bytes)
    {
        Invitation invitation;
        try
        {
            invitation = InvitationCodec.Decode(bytes);
        }
        catch (WireFormatException e)
        {
            _log.Warning("Invitation from {Device} dropped: {Reason}", from.Short, e.Message);
            return;
        }
        if (invitation.Invitee != _peer.Account.Id || invitation.Inviter.FindDevice(from) is null)
        {
            _log.Warning("Invitation from {Device} dropped: not for this account, or not sent by the inviter", from.Short);
            return;
        }
        if (_accepted.Contains(invitation.Workspace))
        {
            // Held already: a fresh invitation is a manager's re-invitation (it wakes a dormant copy; the workspace decides).
            _workspaces.Tell(new WorkspaceProtocol.ToWorkspace(invitation.Workspace, new WorkspaceProtocol.Reinvited(bytes)));
            return;
        }
        if (_invitations.ContainsKey(invitation.Workspace)) return;
        Persist(new InvitationRecorded { Invitation = ByteString.CopyFrom(bytes) }, _ =>
        {
            _invitations[invitation.Workspace] = (invitation, bytes);
            _peer.Known.Learn(invitation.Inviter);
            Context.System.EventStream.Publish(new WorkspaceProtocol.Alert(_peer.Clock.GetUtcNow(), "invitation", invitation.Workspace.ToString(),
                $"{invitation.Inviter.Name} invited you to \"{invitation.WorkspaceName}\" as {invitation.Role.Name()}"));
        });
    }

    private void Accept(WorkspaceId workspace)
    {
        if (!_invitations.TryGetValue(workspace, out var pending))
        {
            Sender.Tell(new WorkspaceProtocol.Refused($"no invitation to workspace {workspace}", 404));
            return;
        }
        var sender = Sender;
        var self = Self;
        _workspaces.Ask(new WorkspaceProtocol.JoinWorkspace(pending.Bytes), _peer.Settings.AskTimeout).ContinueWith(t =>
        {
            var reply = t.IsCompletedSuccessfully ? t.Result : new WorkspaceProtocol.Refused("joining timed out", 504);
            if (reply is WorkspaceProtocol.Created) self.Tell(new Accepted(workspace));
            sender.Tell(reply);
        }, TaskScheduler.Default);
    }

    private sealed record Accepted(WorkspaceId Workspace);

    private void Forget(WorkspaceId workspace)
    {
        _accepted.Remove(workspace);
        _invitations.Remove(workspace);
    }


    private static ContactView View(ContactCard card, string? address, PresenceProtocol.PresenceSnapshot? presence)
    {
        var statuses = presence?.Devices.Where(d => d.Account == card.AccountId).Select(d => d.Status).ToList() ?? [];
        var status = statuses.Contains(PresenceStatus.Online) ? "online"
            : statuses.Contains(PresenceStatus.Unreachable) ? "unreachable"
            : statuses.Contains(PresenceStatus.Gone) ? "gone" : "unknown";
        return new ContactView(card.AccountId.ToString(), card.Name, card.Devices.Select(d => d.Id.ToString()).ToList(), status, address);
    }
}

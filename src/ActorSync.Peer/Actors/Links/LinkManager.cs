using Akka.Actor;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using static ActorSync.Peer.Actors.Links.LinkProtocol;

namespace ActorSync.Peer.Actors.Links;

/// <summary>
/// One <see cref="PeerLink"/> child per remote device (named by device id), created on the first
/// dial hint, inbound link or frame to send. Inbound frames go to the parent (the device actor),
/// which routes invitations and workspace traffic.
/// </summary>
public sealed class LinkManager : UntypedActor
{
    private readonly DeviceId _self;
    private readonly ILinkTransport _transport;
    private readonly KnownDevices _known;
    private readonly IActorRef _relay;
    private string? _relayRoute;
    private readonly TimeSpan _backoffMin;
    private readonly TimeSpan _backoffMax;
    private readonly Dictionary<DeviceId, string> _up = [];

    public LinkManager(DeviceId self, ILinkTransport transport, KnownDevices known, IActorRef relay, TimeSpan backoffMin, TimeSpan backoffMax)
    {
        _relay = relay;
        _self = self;
        _transport = transport;
        _known = known;
        _backoffMin = backoffMin;
        _backoffMax = backoffMax;
    }

    public static Props Props(DeviceId self, ILinkTransport transport, KnownDevices known, IActorRef relay, TimeSpan backoffMin, TimeSpan backoffMax) =>
        Akka.Actor.Props.Create(() => new LinkManager(self, transport, known, relay, backoffMin, backoffMax));

    /// <summary>An inbound link accepted by the transport (already authenticated by its TLS pin).</summary>
    public sealed record Inbound(ILinkConnection Connection);

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(LinkStateChanged));
        Context.System.EventStream.Subscribe(Self, typeof(RelayStateChanged));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case DialHint hint when hint.Device != _self && _known.Pins.PinForDevice(hint.Device) is not null:
                LinkFor(hint.Device).Forward(hint);
                break;
            case DialHint:
                break;
            case Inbound inbound:
                LinkFor(inbound.Connection.Remote).Tell(new PeerLink.Accept(inbound.Connection));
                break;
            case SendFrame send:
                LinkFor(send.Device).Forward(send);
                break;
            case Track track when track.Device != _self:
                LinkFor(track.Device);
                break;
            case Track:
                break;
            case RelayStateChanged relay:
                _relayRoute = relay.Up ? relay.Route : null;
                break;
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Invitation or LinkFrame.BodyOneofCase.Summary
                or LinkFrame.BodyOneofCase.Deltas or LinkFrame.BodyOneofCase.Ack or LinkFrame.BodyOneofCase.Receipt
                or LinkFrame.BodyOneofCase.Image } frame:
                Context.Parent.Tell(frame);
                break;
            case InboundFrame:
                break; // hello, ping, refusal: nothing to route
            case DurabilityBarrier barrier:
                Context.Parent.Tell(barrier);
                break;
            case LinkStateChanged change:
                if (change.Up) _up[change.Device] = change.Route;
                else _up.Remove(change.Device);
                break;
            case GetLinks:
                Sender.Tell(new LinkList(new Dictionary<DeviceId, string>(_up)));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private IActorRef LinkFor(DeviceId device)
    {
        var name = device.ToString();
        var child = Context.Child(name);
        return child.IsNobody()
            ? Context.ActorOf(PeerLink.Props(_self, device, _transport, _known, _relay, _relayRoute, _backoffMin, _backoffMax), name)
            : child;
    }
}

using Akka.Actor;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Wire;

using ActorSync.Peer.Links;

namespace ActorSync.Peer.Actors.Links;

/// <summary>Messages of the link manager and its peer links.</summary>
public static class LinkProtocol
{
    /// <summary>Send a frame to a device if a link is up; dropped otherwise (anti-entropy resends what matters).</summary>
    public sealed record SendFrame(DeviceId Device, LinkFrame Frame);

    /// <summary>An address where a device may be dialed (LAN presence, a contact's address hint).</summary>
    public sealed record DialHint(DeviceId Device, string Address);

    /// <summary>A frame from an authenticated device, routed to whoever handles its kind.</summary>
    public sealed record InboundFrame(DeviceId From, LinkFrame Frame);

    /// <summary>
    /// Travels the path inbound frames take (link manager, device, workspaces, each workspace) and
    /// comes back as <see cref="BarrierPassed"/> once every frame handed on before it is durable:
    /// the relay client acknowledges mailbox envelopes to the relay only then, so an envelope never
    /// leaves the relay before its deltas are in this device's journal.
    /// </summary>
    public sealed record DurabilityBarrier(long Id, IActorRef ReplyTo);

    public sealed record BarrierPassed(long Id, bool Ok = true);

    /// <summary>Published on the event stream whenever a device's link goes up or down.</summary>
    public sealed record LinkStateChanged(DeviceId Device, bool Up, string Route);

    /// <summary>A workspace syncs with this device: keep a link actor for it so it gets a route (direct or relay).</summary>
    public sealed record Track(DeviceId Device);

    /// <summary>Published by the relay client when its stream to the designated relay opens or closes.</summary>
    public sealed record RelayStateChanged(bool Up, string Relay)
    {
        /// <summary>What `ws show` calls the route: "relay" (gRPC) or "relay-http" (the HTTP/1.1 gateway).</summary>
        public string Route => RelayAddress.TryParse(Relay, out var a) && a!.IsGateway ? "relay-http" : "relay";
    }

    /// <summary>To the relay client: store this frame for an offline device.</summary>
    public sealed record RelayEnqueue(DeviceId Device, LinkFrame Frame);

    /// <summary>Which devices have a link up (for listings).</summary>
    public sealed record GetLinks;

    public sealed record LinkList(IReadOnlyDictionary<DeviceId, string> Up);
}

using System.Threading.Channels;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Relay;

namespace ActorSync.Peer.Actors.Links;

/// <summary>
/// One open route to a relay, whatever carries it (a gRPC stream, or the HTTP/1.1 gateway's
/// requests): frames for the relay go into <see cref="Outbound"/>, frames from it come out of
/// <see cref="RunAsync"/>. The relay client neither knows nor cares which.
/// </summary>
internal abstract class RelayConnection
{
    protected RelayConnection(RelayAddress address) => Address = address;

    public RelayAddress Address { get; }

    /// <summary>Frames for the relay, written by one writer; bounded so a stuck route cannot hold unbounded memory.</summary>
    public Channel<RelayFrame> Outbound { get; } = Channel.CreateBounded<RelayFrame>(4096);

    /// <summary>Carries frames both ways until the route breaks or is closed; returns why it ended (safe to log).</summary>
    public abstract Task<string> RunAsync(Action<RelayFrame> inbound);

    public abstract void Close();
}

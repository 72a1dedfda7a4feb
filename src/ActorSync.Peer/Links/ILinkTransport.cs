using ActorSync.Core.Identity;
using ActorSync.Protocol.Wire;

namespace ActorSync.Peer.Links;

/// <summary>
/// How a peer reaches other devices. The real one is gRPC over mutual TLS (<c>GrpcLinkTransport</c>);
/// simulations put an in-memory one with fault injection in its place. Identity is always the
/// pinned key, never the address.
/// </summary>
public interface ILinkTransport : IAsyncDisposable
{
    /// <summary>Where this device accepts links, e.g. "127.0.0.1:7001"; null when it does not listen.</summary>
    string? ListenAddress { get; }

    /// <summary>Starts accepting; every authenticated inbound link is handed to <paramref name="onInbound"/>.</summary>
    Task StartAsync(Func<ILinkConnection, Task> onInbound, CancellationToken ct);

    /// <summary>
    /// Opens a link to <paramref name="device"/> at <paramref name="address"/>, checking that the
    /// other end presents the TLS key pinned for that device. Throws <see cref="LinkException"/>
    /// with a clear reason on any failure (refused, wrong key, timeout, not an ActorSync peer).
    /// </summary>
    Task<ILinkConnection> DialAsync(DeviceId device, string address, CancellationToken ct);
}

/// <summary>
/// One authenticated, bidirectional stream of frames with one remote device. Sends are queued
/// (bounded: <see cref="TrySend"/> returns false when full) and written by one writer; reading
/// ends when either side closes or the link fails.
/// </summary>
public interface ILinkConnection : IAsyncDisposable
{
    DeviceId Remote { get; }
    bool Inbound { get; }

    /// <summary>Queues a frame; false when the queue is full or the link is closed (the caller resends later).</summary>
    bool TrySend(LinkFrame frame);

    /// <summary>Frames from the remote device until the link closes; a malformed or oversized frame closes the link.</summary>
    IAsyncEnumerable<LinkFrame> ReadAllAsync(CancellationToken ct);

    /// <summary>Completes when the link is closed, with the reason.</summary>
    Task<string> Closed { get; }
}

/// <summary>Which device keys this peer accepts links from, by the SHA-256 of their TLS public key.</summary>
public interface IPinDirectory
{
    /// <summary>The device a TLS public-key pin belongs to, if it is a contact's or co-member's device.</summary>
    DeviceId? DeviceForPin(ReadOnlySpan<byte> spkiSha256);

    /// <summary>The pin expected when dialing a device; null when the device is unknown or takes no direct links.</summary>
    byte[]? PinForDevice(DeviceId device);
}

/// <summary>A link could not be opened or broke; the message is safe to log.</summary>
public sealed class LinkException : Exception
{
    public LinkException(string message) : base(message) { }
    public LinkException(string message, Exception inner) : base(message, inner) { }
}

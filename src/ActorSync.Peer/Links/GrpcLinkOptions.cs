namespace ActorSync.Peer.Links;

/// <summary>
/// Settings of the gRPC device-link transport. Defaults follow shared/FACTS.md: explicit connect
/// timeout and keepalive (both are off or unbounded by default, so a dead peer would never be
/// noticed), bounded queues, and a frame limit that keeps one peer from pinning our memory.
/// </summary>
public sealed record GrpcLinkOptions
{
    /// <summary>Where to accept links, "host:port" (port 0 picks a free one); null for a device that only dials.</summary>
    public string? ListenAddress { get; init; }

    /// <summary>Largest frame sent or accepted; a bigger one closes that link only.</summary>
    public int MaxFrameBytes { get; init; } = GrpcLinkTransport.MaxFrameBytes;

    /// <summary>TCP connect plus TLS handshake; dialing gives up after twice this in all.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Frames waiting to be written per link; when full, TrySend says no and the caller resends later.</summary>
    public int SendQueueCapacity { get; init; } = 1024;

    /// <summary>
    /// Frames read ahead of the consumer per link. Small on purpose: frames may be megabytes, and
    /// once it is full HTTP/2 flow control holds the sender back instead of our memory.
    /// </summary>
    public int ReceiveQueueCapacity { get; init; } = 16;

    /// <summary>How long a clean close waits for queued frames to go out and the other side to answer.</summary>
    public TimeSpan CloseGrace { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>At most one log line per remote address per interval about refused or failing links.</summary>
    public TimeSpan LogInterval { get; init; } = TimeSpan.FromSeconds(10);
}

namespace ActorSync.Peer.Hosting;

/// <summary>Command-line choices of `actorsync peer`; everything else comes from config/peer.hocon.</summary>
public sealed record PeerOptions(
    string Home,
    string? Listen = "127.0.0.1:0",
    string Api = "127.0.0.1:0",
    IReadOnlyList<string>? Relays = null,
    string? ConfigFile = null);

using ActorSync.Peer.Home;
using ActorSync.Peer.Hosting;
using ActorSync.Relay.Hosting;

namespace ActorSync.Relay.Tests.Front;

/// <summary>A real relay node and real peers in this process, on 127.0.0.1, each with a temp home.</summary>
internal sealed class RelayFixture : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "actorsync-relay-test-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<PeerHost> _peers = [];

    public RelayHost Relay { get; private set; } = null!;

    /// <summary>Peers of this fixture reach the relay through its HTTP/1.1 gateway only, and take no direct links.</summary>
    public bool HttpOnly { get; private init; }

    public static async Task<RelayFixture> StartAsync(bool httpOnly = false)
    {
        var fixture = new RelayFixture { HttpOnly = httpOnly };
        fixture.Relay = await RelayHost.StartAsync(new RelayOptions(Path.Combine(fixture._root, "relay"), Http: "127.0.0.1:0"));
        return fixture;
    }

    public string HomeOf(string name) => Path.Combine(_root, name);

    /// <summary>Starts (or restarts) a peer whose designated relay is this fixture's relay.</summary>
    public async Task<PeerHost> StartPeerAsync(string name)
    {
        var home = HomeOf(name);
        var relay = HttpOnly ? Relay.GatewayAddress! : Relay.Address;
        if (!PeerHome.Exists(home)) PeerHome.Init(home, name, [relay.ToString()]).Dispose();
        var config = Path.Combine(home, "test.hocon");
        await File.WriteAllTextAsync(config, $"""
            actorsync.peer.presence.lan.enabled = off
            actorsync.peer.anti-entropy-interval = 500ms
            actorsync.peer.links.dial-backoff-max = 1s
            actorsync.peer.links.relay-routes = [{(HttpOnly ? "http" : "grpc, http")}]
            """);
        var peer = await PeerHost.StartAsync(new PeerOptions(home, HttpOnly ? null : "127.0.0.1:0", "127.0.0.1:0", null, config));
        _peers.Add(peer);
        return peer;
    }

    public async Task StopPeerAsync(PeerHost peer)
    {
        _peers.Remove(peer);
        await peer.DisposeAsync();
    }

    public static Task Eventually(Func<Task<bool>> condition, string what, int seconds = 60) =>
        ActorSync.Tests.Shared.Poll.Until(condition, what, seconds);

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _peers) await p.DisposeAsync();
        await Relay.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

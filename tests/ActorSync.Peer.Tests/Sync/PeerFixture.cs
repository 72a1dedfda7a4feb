using ActorSync.Peer.Home;
using ActorSync.Peer.Hosting;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>A real peer in this process: its own home folder, actor system, TLS links on 127.0.0.1 and local API.</summary>
internal sealed class TestPeer : IAsyncDisposable
{
    private TestPeer(string home, PeerHost host, TimeProvider? clock, string? extraConfig)
    {
        ExtraConfig = extraConfig;
        HomePath = home;
        Host = host;
        Clock = clock;
    }

    public TimeProvider? Clock { get; }

    /// <summary>HOCON lines added to the test configuration (kept across restarts).</summary>
    public string? ExtraConfig { get; }

    public string HomePath { get; }
    public PeerHost Host { get; private set; }
    public Api.IPeerFacade Api => Host.Facade;

    public static async Task<TestPeer> StartAsync(string name, string? home = null, TimeProvider? clock = null, string? extraConfig = null)
    {
        home ??= Path.Combine(Path.GetTempPath(), "actorsync-test-" + Guid.NewGuid().ToString("N")[..12], name);
        if (!PeerHome.Exists(home)) PeerHome.Init(home, name, []).Dispose();
        var config = Path.Combine(home, "test.hocon");
        // LAN presence off: tests wire peers by address, so parallel test runs cannot see each other.
        await File.WriteAllTextAsync(config, """
            actorsync.peer.presence.lan.enabled = off
            actorsync.peer.anti-entropy-interval = 500ms
            actorsync.peer.links.dial-backoff-max = 1s
            """ + "\n" + extraConfig);
        var host = await PeerHost.StartAsync(new PeerOptions(home, "127.0.0.1:0", "127.0.0.1:0", null, config), clock: clock);
        return new TestPeer(home, host, clock, extraConfig);
    }

    /// <summary>Stops the peer and starts it again on the same home (and a new port).</summary>
    public async Task RestartAsync()
    {
        await Host.DisposeAsync();
        var name = Path.GetFileName(HomePath);
        var again = await StartAsync(name, HomePath, Clock, ExtraConfig);
        Host = again.Host;
    }

    /// <summary>Stops the peer (as a closed laptop): it neither sends nor receives until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        await Host.DisposeAsync();
        _stopped = true;
    }

    /// <summary>Starts a stopped peer again on the same home (and a new port: contacts must learn it again).</summary>
    public async Task StartAgainAsync()
    {
        Host = (await StartAsync(Path.GetFileName(HomePath), HomePath, Clock, ExtraConfig)).Host;
        _stopped = false;
    }

    private bool _stopped;

    public async ValueTask DisposeAsync()
    {
        if (!_stopped) await Host.DisposeAsync();
        try { Directory.Delete(Path.GetDirectoryName(HomePath)!, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Makes two peers contacts of each other, each knowing where the other listens.</summary>
    public static async Task ConnectAsync(TestPeer a, TestPeer b)
    {
        await a.Api.AddContactAsync(await b.Api.CardAsync(default), b.Host.ListenAddress, default);
        await b.Api.AddContactAsync(await a.Api.CardAsync(default), a.Host.ListenAddress, default);
    }

    /// <summary>Polls a condition until it holds or the (generous) timeout passes; never a fixed sleep.</summary>
    public static Task Eventually(Func<Task<bool>> condition, string what, int seconds = 60) =>
        ActorSync.Tests.Shared.Poll.Until(condition, what, seconds);
}

/// <summary>The system clock moved by an offset the spec sets: time still runs, and can jump weeks ahead.</summary>
internal sealed class ShiftedClock : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

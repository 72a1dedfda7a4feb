using Akka.Actor;
using Akka.Actor.Setup;
using ActorSync.Peer.Actors;
using ActorSync.Peer.Actors.Device;
using ActorSync.Peer.Actors.Links;
using ActorSync.Peer.Actors.Presence;
using ActorSync.Peer.Api;
using ActorSync.Peer.Home;
using ActorSync.Peer.Links;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

using static ActorSync.Peer.Actors.Links.LinkProtocol;

namespace ActorSync.Peer.Hosting;

/// <summary>
/// One running peer: the actor tree (/user/device), the device-link transport (gRPC, mutual TLS),
/// LAN presence, and the local API. <see cref="StartAsync"/> is what tests use in-process;
/// <see cref="RunAsync"/> is `actorsync peer`.
/// </summary>
public sealed class PeerHost : IAsyncDisposable
{
    private readonly PeerHome _home;
    private readonly ActorSystem _system;
    private readonly ILinkTransport _transport;
    private readonly LanPresence? _lan;
    private readonly ApiServer _api;

    private PeerHost(PeerHome home, ActorSystem system, ILinkTransport transport, LanPresence? lan, ApiServer api, IActorRef device,
        IPeerFacade facade)
    {
        _home = home;
        _system = system;
        _transport = transport;
        _lan = lan;
        _api = api;
        Device = device;
        Facade = facade;
    }

    public IActorRef Device { get; }
    public IPeerFacade Facade { get; }
    public ActorSystem System => _system;
    public string ApiUrl => _api.Url;
    public string? ListenAddress => _transport.ListenAddress;
    public PeerHome Home => _home;

    public static Task<PeerHost> StartAsync(PeerOptions options, ILoggerFactory? loggers = null, TimeProvider? clock = null,
        CancellationToken ct = default) =>
        StartAsync(options, transport: null, loggers, clock, ct);

    /// <summary>
    /// Starts a peer whose device links go through <paramref name="transport"/> (given the home and the
    /// pin directory the peer keeps current) instead of gRPC: simulations use an in-memory transport.
    /// Null means the real gRPC transport.
    /// </summary>
    public static async Task<PeerHost> StartAsync(PeerOptions options, Func<PeerHome, IPinDirectory, ILinkTransport>? transport,
        ILoggerFactory? loggers = null, TimeProvider? clock = null, CancellationToken ct = default)
    {
        loggers ??= NullLoggerFactory.Instance;
        clock ??= TimeProvider.System;
        // Check the addresses before anything starts, so a typo fails fast and leaves nothing running.
        try
        {
            var (apiHost, _) = LinkAddress.Parse(options.Api, allowAnyPort: true);
            if (apiHost is not ("127.0.0.1" or "localhost")) throw new LinkException("the local API listens on 127.0.0.1 or localhost only");
            if (options.Listen is not null) LinkAddress.Parse(options.Listen, allowAnyPort: true);
        }
        catch (LinkException e)
        {
            throw new ArgumentException(e.Message, nameof(options), e);
        }
        var home = PeerHome.Load(options.Home, options.Relays);
        PeerConfig.EnsureWal(home.JournalDatabase);
        PeerConfig.EnsureWal(home.SnapshotDatabase);
        var config = PeerConfig.Load(home.JournalDatabase, home.SnapshotDatabase, options.ConfigFile);
        var settings = PeerSettings.From(config);
        var pins = new PinDirectory();
        var known = new KnownDevices(pins);
        var links = transport?.Invoke(home, pins)
            ?? new GrpcLinkTransport(home.Tls, pins, new GrpcLinkOptions { ListenAddress = options.Listen }, loggers, clock);
        var context = new PeerContext(home, settings, known, clock) { ListenAddress = () => links.ListenAddress };
        var system = ActorSystem.Create("actorsync-peer", AsyncSqliteJournal.Apply(ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config)), config));
        var device = system.ActorOf(DeviceActor.Props(context, links), "device");
        await device.Ask<DeviceProtocol.Ready>(new DeviceProtocol.WhenReady(), settings.AskTimeout, ct).ConfigureAwait(false);
        if (options.Listen is not null)
        {
            await links.StartAsync(async connection =>
            {
                device.Tell(new LinkManager.Inbound(connection));
                await connection.Closed.ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
        }
        LanPresence? lan = null;
        if (settings.LanEnabled)
        {
            var presence = await system.ActorSelection("/user/device/presence").ResolveOne(settings.AskTimeout, ct).ConfigureAwait(false);
            lan = new LanPresence(settings.LanHost, settings.LanPorts, settings.LanInterval, home.Device, links.ListenAddress, known,
                presence, clock, loggers.CreateLogger<LanPresence>());
        }
        var facade = new ActorPeerFacade(system, device, context, () => links.ListenAddress);
        var token = home.IssueApiToken();
        var api = await ApiServer.StartAsync(facade, options.Api, token, loggers, new ApiLimits(), ct).ConfigureAwait(false);
        PeerHome.WriteSecret(home.ApiAddressPath, global::System.Text.Encoding.UTF8.GetBytes(api.Url + "\n"));
        return new PeerHost(home, system, links, lan, api, device, facade);
    }

    /// <summary>`actorsync peer`: start, print where it listens, run until cancelled, stop cleanly.</summary>
    public static async Task<int> RunAsync(PeerOptions options, TextWriter output, CancellationToken ct)
    {
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning));
        await using var host = await StartAsync(options, loggers, ct: ct).ConfigureAwait(false);
        await output.WriteLineAsync($"account: {host.Home.Account.Id}").ConfigureAwait(false);
        await output.WriteLineAsync($"device: {host.Home.Device.Id}").ConfigureAwait(false);
        await output.WriteLineAsync($"listen: {host.ListenAddress ?? "off"}").ConfigureAwait(false);
        await output.WriteLineAsync($"api: {host.ApiUrl}").ConfigureAwait(false);
        await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM / SIGINT: fall through to a clean stop
        }
        await output.WriteLineAsync("stopping").ConfigureAwait(false);
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        File.Delete(_home.ApiAddressPath);
        // Going offline: let the relay confirm what is on its way to offline members first (bounded).
        try
        {
            var relay = await _system.ActorSelection("/user/device/relay").ResolveOne(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            await relay.Ask<RelayClient.Flushed>(new RelayClient.Flush(), TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ActorNotFoundException or AskTimeoutException or TaskCanceledException)
        {
            // no relay, or it did not confirm in time: anti-entropy delivers the rest later
        }
        await _api.DisposeAsync().ConfigureAwait(false);
        if (_lan is not null) await _lan.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        // Writes still in flight (PersistAsync) finish before the system stops: what this device
        // acknowledged as durable must be in its journal.
        try
        {
            var workspaces = await _system.ActorSelection("/user/device/workspaces").ResolveOne(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            await workspaces.Ask<BarrierPassed>(new DurabilityBarrier(0, ActorRefs.Nobody), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ActorNotFoundException or AskTimeoutException or TaskCanceledException)
        {
            // nothing to wait for, or a journal that does not answer: stop anyway
        }
        await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        _home.Dispose();
    }
}

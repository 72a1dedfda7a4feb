using System.Net;
using System.Security.Authentication;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Remote.Transport.DotNetty;
using ActorSync.Peer.Hosting;
using ActorSync.Peer.Links;
using ActorSync.Relay.Front;
using ActorSync.Relay.Gateway;
using ActorSync.Relay.Mailboxes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorSync.Relay.Hosting;

/// <summary>
/// One relay node: an Akka.Cluster member holding its share of the sharded mailboxes, and the gRPC
/// device front end (HTTP/2, TLS 1.3, device client certificates) that hands requests to them.
/// </summary>
public sealed class RelayHost : IAsyncDisposable
{
    private readonly RelayHome _home;
    private readonly ActorSystem _system;
    private readonly WebApplication _front;

    private readonly GatewayTokens _tokens;

    private readonly WebApplication? _gateway;

    private RelayHost(RelayHome home, ActorSystem system, WebApplication front, WebApplication? gatewayServer, RelayAddress address, RelayAddress? gateway,
        RelayFrontService service, GatewayTokens tokens)
    {
        _home = home;
        _system = system;
        _front = front;
        _gateway = gatewayServer;
        _tokens = tokens;
        Address = address;
        GatewayAddress = gateway;
        Front = service;
    }

    /// <summary>The gRPC device front end: https://HOST:PORT#PIN.</summary>
    public RelayAddress Address { get; }

    /// <summary>The HTTP/1.1 gateway (https://HOST:PORT/gateway#PIN), when started with --http.</summary>
    public RelayAddress? GatewayAddress { get; }
    public RelayFrontService Front { get; }
    public ActorSystem System => _system;

    public static async Task<RelayHost> StartAsync(RelayOptions options, ILoggerFactory? loggers = null, TimeProvider? clock = null,
        CancellationToken ct = default)
    {
        loggers ??= NullLoggerFactory.Instance;
        var home = RelayHome.LoadOrCreate(options.Home);
        var config = RelayConfig.Load(home, options);
        var setup = options.ClusterTls is null
            ? ActorSystemSetup.Create(BootstrapSetup.Create().WithConfig(config))
            : ClusterTlsSetup(options.ClusterTls, home, config);
        var system = ActorSystem.Create("actorsync-relay", AsyncSqliteJournal.Apply(setup, config));
        var cluster = Cluster.Get(system);
        if (options.Seeds is not { Count: > 0 }) cluster.Join(cluster.SelfAddress);
        var relay = config.GetConfig("actorsync.relay");
        var mailboxes = MailboxSharding.Start(system, MailboxSettings.FromConfig(relay.GetConfig("mailbox")), relay.GetInt("shards"), clock);
        var settings = new RelayFrontSettings(
            (int)(relay.GetByteSize("front.max-frame-bytes") ?? 8 * 1024 * 1024), relay.GetInt("front.max-recipients"),
            relay.GetInt("front.session-queue"), relay.GetTimeSpan("front.store-timeout", TimeSpan.FromSeconds(10), allowInfinite: false));
        var presence = system.ActorOf(Presence.PresenceHub.Props(clock), "presence");
        var desk = new MailboxDesk(mailboxes, settings, loggers.CreateLogger<MailboxDesk>());
        var service = new RelayFrontService(system, mailboxes, presence, desk);
        var tokens = new GatewayTokens(clock ?? TimeProvider.System);
        var gateway = new HttpGateway(system, mailboxes, presence, desk, tokens, home.Tls.Pin, loggers.CreateLogger<HttpGateway>());
        var http = options.Http is null ? null : ParseHttp(options.Http);
        var front = BuildFront(home, options.Port, settings, service);
        await JournalWarmUp.RunAsync(system, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        await front.StartAsync(ct).ConfigureAwait(false);
        var address = new RelayAddress("127.0.0.1", BoundPort(front), home.Tls.Pin);
        WebApplication? gatewayServer = null;
        RelayAddress? gatewayAddress = null;
        if (http is { } at)
        {
            gatewayServer = BuildGateway(home, at, gateway, settings);
            await gatewayServer.StartAsync(ct).ConfigureAwait(false);
            gatewayAddress = new RelayAddress(at.Host, BoundPort(gatewayServer), home.Tls.Pin, IsGateway: true);
        }
        return new RelayHost(home, system, front, gatewayServer, address, gatewayAddress, service, tokens);
    }

    /// <summary>
    /// Mutual TLS between relay nodes: each presents the cluster certificate and accepts a peer only
    /// if it presents the same key (pinned by SHA-256 of the public key; self-signed chains and names
    /// are not what is checked). A failed handshake cannot stop the node: coordinated shutdown is off
    /// for that in relay.hocon (measured: it would otherwise terminate the system).
    /// </summary>
    private static ActorSystemSetup ClusterTlsSetup(string folder, RelayHome home, Akka.Configuration.Config config)
    {
        var certificate = DeviceCertificate.LoadOrCreate(folder, home.Identity.Id);
        var pin = certificate.Pin;
        var ssl = new DotNettySslSetup(certificate.Certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false,
            customValidator: (presented, _, _, _, log) =>
            {
                var ok = presented is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(presented), pin);
                if (!ok) log.Log(Akka.Event.LogLevel.WarningLevel, null, "Refused a relay node whose TLS key is not the cluster's");
                return ok;
            });
        var tls = Akka.Configuration.ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-ssl = on");
        return BootstrapSetup.Create().WithConfig(tls.WithFallback(config)).And(ssl);
    }

    private static int BoundPort(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

    /// <summary>--http HOST:PORT (port 0: any free one).</summary>
    private static (string Host, IPAddress Bind, int Port)? ParseHttp(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), global::System.Globalization.NumberStyles.None, global::System.Globalization.CultureInfo.InvariantCulture,
                out var port) || port > 65535)
            throw new ArgumentException($"--http '{text}' is not HOST:PORT");
        var host = text[..colon].Trim('[', ']');
        var bind = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var ip) ? ip
            : throw new ArgumentException($"--http '{text}': the host is an IP address (or localhost)");
        return (host, bind, port);
    }

    private static WebApplication BuildFront(RelayHome home, int port, RelayFrontSettings settings, RelayFrontService service)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = home.Tls.Certificate,
                    SslProtocols = SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    // Devices are self-signed; who they are is settled by their card in the first frame.
                    ClientCertificateValidation = static (_, _, _) => true,
                    CheckCertificateRevocation = false,
                    HandshakeTimeout = TimeSpan.FromSeconds(5),
                });
            });
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = settings.MaxFrameBytes + 64 * 1024;
            grpc.MaxSendMessageSize = settings.MaxFrameBytes + 64 * 1024;
            grpc.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton(service);
        var app = builder.Build();
        app.MapGrpcService<RelayFrontService>();
        return app;
    }

    /// <summary>
    /// The HTTP gateway as its own server, so its routes answer on its listener only (never on the
    /// gRPC front end's): HTTP/1.1 only, TLS with the relay's key (devices pin it). Who a device
    /// is gets settled by its signed challenge, not by a client certificate, since TLS-terminating
    /// proxies on this route may not pass one through.
    /// </summary>
    private static WebApplication BuildGateway(RelayHome home, (string Host, IPAddress Bind, int Port) at, HttpGateway gateway, RelayFrontSettings settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            // Kestrel's own cap (~30 MB by default) must sit above the gateway's, which refuses a
            // larger body itself with a clear 413 line; Kestrel's only backs it up.
            kestrel.Limits.MaxRequestBodySize = 2L * settings.MaxFrameBytes + 1024 * 1024;
            kestrel.Listen(at.Bind, at.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = home.Tls.Certificate,
                    SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.NoCertificate,
                    HandshakeTimeout = TimeSpan.FromSeconds(5),
                });
            });
        });
        var app = builder.Build();
        gateway.Map(app);
        return app;
    }

    /// <summary>`actorsync relay`: start, print the address devices are given, run until cancelled.</summary>
    public static async Task<int> RunAsync(RelayOptions options, TextWriter output, CancellationToken ct)
    {
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning));
        await using var host = await StartAsync(options, loggers, ct: ct).ConfigureAwait(false);
        // Downed by the split brain resolver (terminate-actor-system is off, so nothing else stops
        // it): a node outside the cluster can store nothing; exit non-zero so a supervisor restarts it.
        using var removed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var wasRemoved = false;
        Cluster.Get(host.System).RegisterOnMemberRemoved(() =>
        {
            wasRemoved = !ct.IsCancellationRequested;
            removed.Cancel();
        });
        await output.WriteLineAsync($"relay address: {host.Address}").ConfigureAwait(false);
        if (host.GatewayAddress is { } gateway) await output.WriteLineAsync($"relay http: {gateway}").ConfigureAwait(false);
        await output.WriteLineAsync($"cluster: {Cluster.Get(host.System).SelfAddress}").ConfigureAwait(false);
        await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, removed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM / SIGINT: leave the cluster cleanly; or removed from it (below)
        }
        if (!wasRemoved) return 0;
        await Console.Error.WriteLineAsync("actorsync relay: this node was removed from the cluster; exiting so it can be restarted").ConfigureAwait(false);
        return 4;
    }

    /// <summary>
    /// Dies as a crashed process would, for simulations: device connections are cut at once (no
    /// graceful close), and the ActorSystem terminates without leaving the cluster or handing off its
    /// shards (coordinated shutdown does not run on terminate: config/relay.hocon), so the other
    /// nodes only see its heartbeats stop. The host is unusable afterwards; do not dispose it too.
    /// </summary>
    public async Task CrashAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync().ConfigureAwait(false);
        if (_gateway is not null)
        {
            await _gateway.StopAsync(now.Token).ConfigureAwait(false);
            await _gateway.DisposeAsync().ConfigureAwait(false);
        }
        await _front.StopAsync(now.Token).ConfigureAwait(false);
        await _front.DisposeAsync().ConfigureAwait(false);
        await _system.Terminate().ConfigureAwait(false);
        _tokens.Dispose();
        _home.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.StopAsync().ConfigureAwait(false);
            await _gateway.DisposeAsync().ConfigureAwait(false);
        }
        await _front.StopAsync().ConfigureAwait(false);
        await _front.DisposeAsync().ConfigureAwait(false);
        await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        await _system.Terminate().ConfigureAwait(false);
        _tokens.Dispose();
        _home.Dispose();
    }
}

using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorSync.Peer.Api;

/// <summary>Size and time bounds of the local API; the defaults suit one user's CLI and scripts.</summary>
public sealed record ApiLimits
{
    /// <summary>JSON bodies (cards, entries) are small; anything larger is a mistake or an attack.</summary>
    public long MaxJsonBytes { get; init; } = 1024 * 1024;

    /// <summary>One uploaded file (PUT .../files/{name}); the body is streamed, never held whole in memory here.</summary>
    public long MaxFileBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>How often an idle watch stream sends a comment line.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Bounded so a runaway script cannot exhaust the peer's sockets.</summary>
    public int MaxConnections { get; init; } = 128;
}

/// <summary>
/// The peer's local control surface: an HTTP/1.1 JSON API on 127.0.0.1 over an <see cref="IPeerFacade"/>,
/// every request authenticated with the bearer token kept in the peer's home. `actorsync` verbs are
/// its only intended clients; the route table is in <see cref="ApiRoutes"/>.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private readonly WebApplication app;
    private int disposed;

    private ApiServer(WebApplication app, string url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>The bound base address, e.g. "http://127.0.0.1:45123" (the real port when 0 was asked for).</summary>
    public string Url { get; }

    public static Task<ApiServer> StartAsync(IPeerFacade facade, string listen, string token, CancellationToken ct) =>
        StartAsync(facade, listen, token, NullLoggerFactory.Instance, new ApiLimits(), ct);

    /// <param name="listen">"HOST:PORT" with HOST 127.0.0.1 or localhost; port 0 picks a free port.</param>
    public static async Task<ApiServer> StartAsync(
        IPeerFacade facade, string listen, string token, ILoggerFactory loggers, ApiLimits limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(facade);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(limits);
        // A short token would make the bearer check guessable; the peer issues 64 hex characters.
        if (string.IsNullOrWhiteSpace(token) || token.Length < 16) throw new ArgumentException("the API token must be at least 16 characters", nameof(token));
        var port = ParseLoopbackPort(listen);

        // The empty builder reads no appsettings, environment or command line: the API's shape is
        // fixed here, not by whatever ASPNETCORE_* variables the user's shell happens to carry.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(ApiServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = limits.MaxJsonBytes;
            k.Limits.MaxConcurrentConnections = limits.MaxConnections;
            k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = StopGrace);
        builder.Services.ConfigureHttpJsonOptions(j =>
        {
            j.SerializerOptions.PropertyNamingPolicy = ApiJson.Wire.PropertyNamingPolicy;
            j.SerializerOptions.Encoder = ApiJson.Wire.Encoder;
        });
        // Binding failures (bad JSON, wrong content type) become exceptions so ApiGuard words them.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        var app = builder.Build();
        var guard = new ApiGuard(token, loggers.CreateLogger(typeof(ApiServer).FullName!));
        app.Use(guard.CatchFailures);
        app.Use(guard.RequireToken);
        ApiRoutes.Map(app, facade, limits, app.Lifetime.ApplicationStopping);

        await app.StartAsync(ct);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                  ?? throw new InvalidOperationException("Kestrel reported no bound address");
        var server = new ApiServer(app, url.TrimEnd('/'));
        ApiLog.Listening(loggers.CreateLogger(typeof(ApiServer).FullName!), server.Url);
        return server;
    }

    /// <summary>"127.0.0.1:8080" or "localhost:0" to a port; anything that would listen beyond this machine is refused.</summary>
    internal static int ParseLoopbackPort(string listen)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(listen);
        var colon = listen.LastIndexOf(':');
        var host = colon < 0 ? "" : listen[..colon];
        if (host is not ("127.0.0.1" or "localhost"))
            throw new ArgumentException($"the local API listens on 127.0.0.1 only (expected 127.0.0.1:PORT, got '{listen}')", nameof(listen));
        if (!int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
            throw new ArgumentException($"'{listen}' has no valid port (0-65535; 0 picks a free one)", nameof(listen));
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        using (var grace = new CancellationTokenSource(StopGrace))
        {
            try
            {
                await app.StopAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                // Past the grace period Kestrel has aborted what was left; nothing more to wait for.
            }
        }
        await app.DisposeAsync();
    }
}

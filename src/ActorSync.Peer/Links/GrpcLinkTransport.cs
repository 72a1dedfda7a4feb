using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Wire;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorSync.Peer.Links;

/// <summary>
/// Device links over gRPC (HTTP/2, TLS 1.3, device client certificates). Serves
/// <c>DeviceLink.Connect</c> on Kestrel and dials other devices with a fresh channel per dial.
/// Both directions authenticate by key, never by name or address: the server accepts any client
/// certificate at TLS and then looks its pin up in the <see cref="IPinDirectory"/> on every call
/// (so refusals are a clear PermissionDenied, not a torn handshake); the dialer accepts only the
/// server key pinned for the device it meant to reach.
/// </summary>
public sealed class GrpcLinkTransport : ILinkTransport
{
    /// <summary>Default limit on one frame, both ways; batches of deltas are cut to fit.</summary>
    public const int MaxFrameBytes = 8 * 1024 * 1024;

    /// <summary>Response header that marks a call the server authenticated and kept open.</summary>
    internal const string AcceptedHeader = "actorsync-link";

    private const string HandshakeDoneKey = "actorsync.tls-done";
    private const string UnknownKeyReason = "unknown device key";

    private readonly DeviceCertificate _certificate;
    private readonly IPinDirectory _pins;
    private readonly GrpcLinkOptions _options;
    private readonly ILogger _logger;
    private readonly LogThrottle _throttle;
    private readonly ConcurrentDictionary<GrpcLinkConnection, byte> _links = new();
    private WebApplication? _app;
    private Func<ILinkConnection, Task>? _onInbound;
    private int _started;
    private int _disposed;
    private long _failedHandshakes;
    private long _rejectedCalls;

    public GrpcLinkTransport(
        DeviceCertificate certificate,
        IPinDirectory pins,
        GrpcLinkOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(pins);
        _certificate = certificate;
        _pins = pins;
        _options = options ?? new GrpcLinkOptions();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GrpcLinkTransport>();
        _throttle = new LogThrottle(_options.LogInterval, time ?? TimeProvider.System);
    }

    /// <summary>"host:port" with the real port once <see cref="StartAsync"/> has completed.</summary>
    public string? ListenAddress { get; private set; }

    /// <summary>Inbound connections that never completed the TLS handshake (no certificate, not TLS, scanners).</summary>
    public long FailedHandshakes => Interlocked.Read(ref _failedHandshakes);

    /// <summary>Inbound calls refused because the client certificate's key belongs to no known device.</summary>
    public long RejectedCalls => Interlocked.Read(ref _rejectedCalls);

    /// <summary>Links open right now, both directions.</summary>
    public int OpenLinks => _links.Count;

    public async Task StartAsync(Func<ILinkConnection, Task> onInbound, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onInbound);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("the link transport is already started");
        _onInbound = onInbound;
        if (_options.ListenAddress is null) return;

        var (host, port) = LinkAddress.Parse(_options.ListenAddress, allowAnyPort: true);
        var ip = await ResolveListenAddress(host, ct).ConfigureAwait(false);
        var app = BuildServer(ip, port);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new LinkException($"cannot accept links on {_options.ListenAddress}: {e.Message}", e);
        }
        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var boundPort = bound is null ? port : new Uri(bound).Port;
        ListenAddress = LinkAddress.Format(host, boundPort);
        LinkLog.Listening(_logger, ListenAddress);
    }

    public async Task<ILinkConnection> DialAsync(DeviceId device, string address, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var expected = _pins.PinForDevice(device)
            ?? throw new LinkException($"no TLS key is pinned for device {device.Short}: it takes no direct links");
        var (host, port) = LinkAddress.Parse(address);
        var check = new ServerKeyCheck(expected);
        var channel = GrpcChannel.ForAddress(new UriBuilder(Uri.UriSchemeHttps, host, port).Uri, new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(check),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = _options.MaxFrameBytes,
            MaxSendMessageSize = _options.MaxFrameBytes,
        });
        AsyncDuplexStreamingCall<LinkFrame, LinkFrame>? call = null;
        // ConnectTimeout covers TCP and TLS; this also bounds HTTP/2 set-up and the server's answer,
        // because a listener that accepts and then says nothing would otherwise hold us forever.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_options.ConnectTimeout * 2);
        try
        {
            call = new DeviceLink.DeviceLinkClient(channel).Connect(cancellationToken: CancellationToken.None);
            var headers = await call.ResponseHeadersAsync.WaitAsync(deadline.Token).ConfigureAwait(false);
            if (headers.Get(AcceptedHeader) is null)
            {
                // No marker: the server answered with its final status straight away.
                throw new RpcException(await FinalStatusAsync(call, deadline.Token).ConfigureAwait(false));
            }
            var openCall = call;
            return OpenLink(device, inbound: false, LinkAddress.Format(host, port), openCall.ResponseStream, openCall.RequestStream,
                openCall.RequestStream.CompleteAsync, release: () =>
                {
                    openCall.Dispose();
                    channel.Dispose();
                });
        }
        catch (Exception e)
        {
            call?.Dispose();
            channel.Dispose();
            if (e is OperationCanceledException && ct.IsCancellationRequested) throw;
            throw Explain(e, device, LinkAddress.Format(host, port), check);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await Task.WhenAll(_links.Keys.Select(l => l.DisposeAsync().AsTask())).ConfigureAwait(false);
        if (_app is not null)
        {
            using var stop = new CancellationTokenSource(_options.CloseGrace);
            try
            {
                await _app.StopAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Kestrel aborts what is left; nothing of ours is still running.
            }
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The body of <c>DeviceLink.Connect</c> on the serving side.</summary>
    internal async Task AcceptAsync(IAsyncStreamReader<LinkFrame> requests, IServerStreamWriter<LinkFrame> responses, ServerCallContext context)
    {
        var connection = context.GetHttpContext().Connection;
        var remoteAddress = connection.RemoteIpAddress?.ToString() ?? "unknown";
        var certificate = connection.ClientCertificate;
        var remote = certificate is null ? null : _pins.DeviceForPin(DeviceCertificate.PinOf(certificate));
        if (remote is not DeviceId device)
        {
            Interlocked.Increment(ref _rejectedCalls);
            if (_throttle.TryEnter(remoteAddress, out var suppressed)) LinkLog.Refused(_logger, remoteAddress, UnknownKeyReason, suppressed);
            throw new RpcException(new Status(StatusCode.PermissionDenied, UnknownKeyReason));
        }
        var onInbound = _onInbound;
        if (Volatile.Read(ref _disposed) != 0 || onInbound is null)
            throw new RpcException(new Status(StatusCode.Unavailable, "the device is shutting down"));

        await context.WriteResponseHeadersAsync(new Metadata { { AcceptedHeader, "1" } }).ConfigureAwait(false);
        var link = OpenLink(device, inbound: true, remoteAddress, requests, responses, completeWrites: null, release: null);
        using (context.CancellationToken.Register(static l => ((GrpcLinkConnection)l!).Close("the remote device went away"), link))
        {
            try
            {
                await onInbound(link).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // the handler's failure ends this link, never the server
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (_throttle.TryEnter(remoteAddress, out var suppressed)) LinkLog.InboundHandlerFailed(_logger, device.Short, e.GetType().Name, suppressed);
                link.Close("the inbound link handler failed");
            }
            // Returning ends the call, so the call lives exactly as long as the link.
            var reason = await link.Closed.ConfigureAwait(false);
            await link.StoppedAsync().ConfigureAwait(false);
            // The dialer learns why we ended the link from the call's status (reasons never quote frames).
            if (!link.ClosedCleanly && !context.CancellationToken.IsCancellationRequested)
                throw new RpcException(new Status(StatusCode.Aborted, reason));
        }
    }

    private GrpcLinkConnection OpenLink(DeviceId device, bool inbound, string remoteAddress,
        IAsyncStreamReader<LinkFrame> reader, IAsyncStreamWriter<LinkFrame> writer, Func<Task>? completeWrites, Action? release)
    {
        var link = new GrpcLinkConnection(device, inbound, remoteAddress, reader, writer, completeWrites, (l, reason) =>
        {
            _links.TryRemove(l, out _);
            release?.Invoke();
            var direction = l.Inbound ? "from" : "to";
            if (l.ClosedCleanly) LinkLog.ClosedCleanly(_logger, direction, l.Remote.Short, l.RemoteAddress, reason);
            else if (_throttle.TryEnter(l.RemoteAddress, out var suppressed)) LinkLog.LinkFailed(_logger, direction, l.Remote.Short, l.RemoteAddress, reason, suppressed);
        }, _options);
        _links.TryAdd(link, 0);
        link.Start();
        // Disposal may have swept the links just before this one was added.
        if (Volatile.Read(ref _disposed) != 0) link.Close("the transport is shutting down");
        return link;
    }

    private WebApplication BuildServer(IPAddress ip, int port)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(GrpcLinkTransport).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // The peer's endpoint is ours alone: no appsettings, environment or command line may add
        // listeners or change limits behind our back.
        builder.Configuration.Sources.Clear();
        // Kestrel reports refused handshakes only at Debug; we count and log them ourselves.
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.Http2.KeepAlivePingDelay = _options.KeepAliveInterval;
            kestrel.Limits.Http2.KeepAlivePingTimeout = _options.KeepAliveTimeout;
            kestrel.Listen(ip, port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(CountFailedHandshakes);
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = _certificate.Certificate,
                    SslProtocols = SslProtocols.Tls13,
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    // Self-signed device certificates always fail name and chain checks; the key is
                    // checked against the pins per call, where a refusal can say why.
                    ClientCertificateValidation = static (_, _, _) => true,
                    CheckCertificateRevocation = false,
                    HandshakeTimeout = _options.ConnectTimeout,
                });
                listen.Use(next => connection =>
                {
                    connection.Items[HandshakeDoneKey] = true;
                    return next(connection);
                });
            });
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = _options.MaxFrameBytes;
            grpc.MaxSendMessageSize = _options.MaxFrameBytes;
            grpc.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton(new DeviceLinkService(this));
        var app = builder.Build();
        app.MapGrpcService<DeviceLinkService>();
        return app;
    }

    private ConnectionDelegate CountFailedHandshakes(ConnectionDelegate next) => async connection =>
    {
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            if (!connection.Items.ContainsKey(HandshakeDoneKey))
            {
                Interlocked.Increment(ref _failedHandshakes);
                var remote = (connection.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";
                if (_throttle.TryEnter(remote, out var suppressed)) LinkLog.HandshakeFailed(_logger, remote, suppressed);
            }
        }
    };

    private SocketsHttpHandler CreateHandler(ServerKeyCheck check) => new()
    {
        ConnectTimeout = _options.ConnectTimeout,
        KeepAlivePingDelay = _options.KeepAliveInterval,
        KeepAlivePingTimeout = _options.KeepAliveTimeout,
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        EnableMultipleHttp2Connections = false,
        SslOptions = new SslClientAuthenticationOptions
        {
            ClientCertificates = [_certificate.Certificate],
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => check.Accepts(certificate),
        },
    };

    private LinkException Explain(Exception e, DeviceId device, string address, ServerKeyCheck check)
    {
        if (check.Presented is { } presented)
        {
            return new LinkException(
                $"the server at {address} does not hold the TLS key pinned for device {device.Short}: " +
                $"expected pin {DeviceCertificate.PinText(check.Expected)}, got {DeviceCertificate.PinText(presented)}", e);
        }
        if (e is RpcException { StatusCode: StatusCode.PermissionDenied } denied)
            return new LinkException($"device {device.Short} at {address} refused the link: {denied.Status.Detail} (it does not know this device's TLS key)", e);
        if (e is RpcException { StatusCode: StatusCode.Unimplemented })
            return new LinkException($"{address} speaks gRPC but is not an ActorSync peer", e);
        if (Find<TimeoutException>(e) is not null)
            return new LinkException($"no TLS answer from {address} within {Seconds(_options.ConnectTimeout)} s (unreachable, or not an ActorSync peer)", e);
        if (e is OperationCanceledException)
            return new LinkException($"{address} did not accept the link within {Seconds(_options.ConnectTimeout * 2)} s (not an ActorSync peer, or overloaded)", e);
        if (Find<SocketException>(e) is { } socket)
        {
            return socket.SocketErrorCode == SocketError.ConnectionRefused
                ? new LinkException($"connection refused at {address}: nothing is listening there", e)
                : new LinkException($"cannot reach {address}: {socket.SocketErrorCode}", e);
        }
        if (Find<AuthenticationException>(e) is not null)
            return new LinkException($"TLS handshake with {address} failed: not an ActorSync peer, or it refused this device's certificate", e);
        if (e is RpcException rpc)
            return new LinkException($"could not open a link to {address}: {rpc.StatusCode}: {rpc.Status.Detail}", e);
        return new LinkException($"could not open a link to {address}: {e.GetType().Name}: {e.Message}", e);
    }

    /// <summary>The status of a call that ended before accepting; reading is what surfaces it.</summary>
    private static async Task<Status> FinalStatusAsync(AsyncDuplexStreamingCall<LinkFrame, LinkFrame> call, CancellationToken ct)
    {
        try
        {
            await call.ResponseStream.MoveNext(ct).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            return e.Status;
        }
        return new Status(StatusCode.Unknown, "the server answered without accepting the link");
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    private static T? Find<T>(Exception? e) where T : Exception => e switch
    {
        null => null,
        T found => found,
        AggregateException aggregate => aggregate.InnerExceptions.Select(Find<T>).FirstOrDefault(f => f is not null),
        _ => Find<T>(e.InnerException),
    };

    private static async Task<IPAddress> ResolveListenAddress(string host, CancellationToken ct)
    {
        if (host is "*" or "+" or "0.0.0.0") return IPAddress.Any;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return IPAddress.Loopback;
        if (IPAddress.TryParse(host, out var ip)) return ip;
        var resolved = await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        return resolved.FirstOrDefault() ?? throw new LinkException($"cannot accept links on {host}: the name has no address");
    }

    /// <summary>The dialer's check of the server key; remembers a wrong key so the error can name it.</summary>
    private sealed class ServerKeyCheck(byte[] expected)
    {
        private byte[]? _presented;

        public byte[] Expected => expected;

        public byte[]? Presented => Volatile.Read(ref _presented);

        public bool Accepts(X509Certificate? certificate)
        {
            if (certificate is null) return false;
            var pin = DeviceCertificate.PinOf(certificate);
            if (DeviceCertificate.PinsEqual(pin, expected)) return true;
            Volatile.Write(ref _presented, pin);
            return false;
        }
    }
}

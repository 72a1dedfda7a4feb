using System.Security.Cryptography;
using System.Threading.Channels;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace ActorSync.Peer.Tests.Links;

/// <summary>One device in a link test: its key, its pins, its transport and the links others opened to it.</summary>
internal sealed class LinkTestDevice : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly Channel<ILinkConnection> _inbound = Channel.CreateUnbounded<ILinkConnection>();
    private bool _transportDisposed;

    private LinkTestDevice(DeviceId id, DeviceCertificate certificate, GrpcLinkOptions options, ILoggerFactory? logs)
    {
        Id = id;
        Certificate = certificate;
        Transport = new GrpcLinkTransport(certificate, Pins, options, logs);
    }

    public DeviceId Id { get; }
    public DeviceCertificate Certificate { get; }
    public PinDirectory Pins { get; } = new();
    public GrpcLinkTransport Transport { get; }
    public string Address => Transport.ListenAddress ?? throw new InvalidOperationException("not listening");

    public static DeviceId NewDeviceId() => DeviceId.FromSigningKey(RandomNumberGenerator.GetBytes(32));

    public static async Task<LinkTestDevice> StartAsync(
        string? listen = "127.0.0.1:0", GrpcLinkOptions? options = null, DeviceId? id = null, DeviceCertificate? certificate = null,
        ILoggerFactory? logs = null)
    {
        var deviceId = id ?? NewDeviceId();
        var device = new LinkTestDevice(deviceId, certificate ?? DeviceCertificate.Create(deviceId),
            (options ?? new GrpcLinkOptions()) with { ListenAddress = listen }, logs);
        await device.Transport.StartAsync(link =>
        {
            device._inbound.Writer.TryWrite(link);
            return Task.CompletedTask;
        }, CancellationToken.None);
        return device;
    }

    /// <summary>Both ways: each accepts the other's key.</summary>
    public void Trust(LinkTestDevice other)
    {
        Pins.Add(other.Id, other.Certificate.Pin);
        other.Pins.Add(Id, Certificate.Pin);
    }

    public Task<ILinkConnection> DialAsync(LinkTestDevice other) => Transport.DialAsync(other.Id, other.Address, CancellationToken.None);

    public async Task<ILinkConnection> NextInboundAsync() =>
        await _inbound.Reader.ReadAsync().AsTask().WaitAsync(Patience);

    public async Task DisposeTransportAsync()
    {
        _transportDisposed = true;
        await Transport.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_transportDisposed) await Transport.DisposeAsync();
        Certificate.Dispose();
    }

    public static async Task<List<LinkFrame>> ReadAsync(ILinkConnection link, int count)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var frames = new List<LinkFrame>();
        await foreach (var frame in link.ReadAllAsync(timeout.Token))
        {
            frames.Add(frame);
            if (frames.Count == count) break;
        }
        return frames;
    }

    public static LinkFrame Ping(ulong nonce) => new() { Ping = new Ping { Nonce = nonce } };

    public static LinkFrame Payload(int bytes) =>
        new() { Deltas = new DeltaBatch { Workspace = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(20)), Deltas = { ByteString.CopyFrom(RandomNumberGenerator.GetBytes(bytes)) } } };

    /// <summary>Waits for a condition that other threads make true; never a fixed sleep.</summary>
    public static Task Eventually(Func<bool> condition, string what) => ActorSync.Tests.Shared.Poll.Until(condition, what, Patience);
}

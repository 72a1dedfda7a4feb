using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using Microsoft.Extensions.Logging;

namespace ActorSync.Peer.Actors.Presence;

/// <summary>
/// LAN presence with no server: every interval this device sends a signed announcement (device id,
/// link address, time) to each port of a configured list on one host, and listens on the first
/// free port of that list. An announcement counts only if it verifies under a key from a known
/// card and is fresh (±60 s), so nobody can steer links by spoofing datagrams.
/// </summary>
public sealed class LanPresence : IAsyncDisposable
{
    private const byte Version = 1;
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(60);
    private readonly UdpClient? _socket;
    private readonly IReadOnlyList<IPEndPoint> _targets;
    private readonly DeviceIdentity _device;
    private readonly string? _linkAddress;
    private readonly KnownDevices _known;
    private readonly IActorRef _presence;
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loops;

    public LanPresence(string host, IReadOnlyList<int> ports, TimeSpan interval, DeviceIdentity device, string? linkAddress,
        KnownDevices known, IActorRef presence, TimeProvider clock, ILogger log)
    {
        _device = device;
        _linkAddress = linkAddress;
        _known = known;
        _presence = presence;
        _clock = clock;
        _log = log;
        var address = IPAddress.Parse(host);
        _targets = ports.Select(p => new IPEndPoint(address, p)).ToList();
        foreach (var port in ports)
        {
            try
            {
                _socket = new UdpClient(new IPEndPoint(address, port));
                BoundPort = port;
                break;
            }
            catch (SocketException)
            {
                // taken by another peer on this host: try the next
            }
        }
        if (_socket is null) _log.LogWarning("LAN presence: no free port in the configured list; announcing only");
        _socket ??= new UdpClient(new IPEndPoint(address, 0));
        _loops = Task.WhenAll(Announce(interval), Listen());
    }

    public int? BoundPort { get; }

    private async Task Announce(TimeSpan interval)
    {
        if (_linkAddress is null) return;
        using var timer = new PeriodicTimer(interval);
        do
        {
            var datagram = Encode();
            foreach (var target in _targets)
            {
                if (target.Port == BoundPort) continue;
                try { await _socket!.SendAsync(datagram, target, _stop.Token).ConfigureAwait(false); }
                catch (SocketException) { /* nobody there */ }
                catch (OperationCanceledException) { return; }
            }
        } while (await SafeTick(timer).ConfigureAwait(false));
    }

    private async Task<bool> SafeTick(PeriodicTimer timer)
    {
        try { return await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { return false; }
    }

    private async Task Listen()
    {
        if (BoundPort is null) return;
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try { received = await _socket!.ReceiveAsync(_stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { continue; }
            catch (ObjectDisposedException) { return; }
            try
            {
                Accept(received.Buffer);
            }
            catch (WireFormatException)
            {
                // not an announcement of ours, or forged: ignore without noise
            }
        }
    }

    private byte[] Encode()
    {
        var w = new WireWriter(128);
        w.Byte(Version);
        w.Raw(_device.Id.Value.ToBytes());
        w.String(_linkAddress ?? "");
        w.VarInt(_clock.GetUtcNow().ToUnixTimeMilliseconds());
        w.Raw(_device.Signing.Sign(w.WrittenSpan));
        return w.ToArray();
    }

    private void Accept(byte[] datagram)
    {
        var r = new WireReader(datagram);
        if (r.Byte("announcement version") != Version) return;
        var device = new DeviceId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "device")));
        var address = r.String(256, "address");
        var millis = r.VarInt("time");
        var signed = r.Position;
        var signature = r.Raw(Signing.SignatureSize, "signature");
        r.ExpectEnd("announcement");
        if (device == _device.Id || _known.Find(device) is not { } known) return;
        if (!Signing.Verify(known.SigningKey, datagram.AsSpan(0, signed), signature)) return;
        var now = _clock.GetUtcNow();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(millis);
        if ((now - at).Duration() > Freshness) return;
        _presence.Tell(new PresenceProtocol.Seen(known.Account, device, address.Length > 0 ? address : null, now));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        try { await _loops.ConfigureAwait(false); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}

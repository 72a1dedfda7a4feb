using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using static ActorSync.Peer.Actors.Links.LinkProtocol;

namespace ActorSync.Peer.Actors.Links;

/// <summary>
/// This device's stream to its designated relay ("https://HOST:PORT#PIN", the pin being the
/// relay's TLS key): drains this device's mailbox (frames go to the parent as if they came over a
/// link from their sender) and enqueues frames for devices that have no direct link. Reconnects
/// with backoff; announces its state on the event stream so links can fall back to it.
/// </summary>
public sealed class RelayClient : UntypedActor, IWithTimers
{
    private readonly string _relay;
    private readonly DeviceCertificate _certificate;
    private readonly ContactCard _card;
    private readonly DeviceId _device;
    private readonly TimeSpan _backoffMin;
    private readonly TimeSpan _backoffMax;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private TimeSpan _backoff;
    private Connection? _connection;
    // Enqueues the relay has not yet confirmed durable: re-sent after a reconnect (the relay dedupes by id).
    private readonly Dictionary<ByteString, RelayFrame> _unconfirmed = [];
    private readonly List<IActorRef> _flushWaiters = [];
    private readonly Dictionary<ByteString, int> _refusals = [];
    private const int MaxRefusals = 120;

    private readonly KnownDevices _known;
    private readonly Func<string?> _listenAddress;
    private readonly TimeProvider _clock;
    private int _subscribedCount = -1;
    private string? _publishedAddress;

    public RelayClient(string relay, DeviceCertificate certificate, ContactCard card, DeviceId device, KnownDevices known,
        Func<string?> listenAddress, TimeProvider clock, TimeSpan backoffMin, TimeSpan backoffMax)
    {
        _known = known;
        _listenAddress = listenAddress;
        _clock = clock;
        _relay = relay;
        _certificate = certificate;
        _card = card;
        _device = device;
        _backoffMin = backoffMin;
        _backoffMax = backoffMax;
        _backoff = backoffMin;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string relay, DeviceCertificate certificate, ContactCard card, DeviceId device, KnownDevices known,
        Func<string?> listenAddress, TimeProvider clock, TimeSpan backoffMin, TimeSpan backoffMax) =>
        Akka.Actor.Props.Create(() => new RelayClient(relay, certificate, card, device, known, listenAddress, clock, backoffMin, backoffMax));

    private sealed record ResubscribeTick;
    private sealed record Noticed(Connection Connection, PresenceNotice Notice);

    private sealed record Connect;
    private sealed record Connected(Connection Connection);
    private sealed record ConnectFailed(string Reason);
    private sealed record Received(Connection Connection, Protocol.Relay.Envelope Envelope);
    private sealed record Lost(Connection Connection, string Reason);
    private sealed record Confirmed(Accepted Accepted);
    private sealed record Resend(ByteString MessageId);

    /// <summary>Replies <see cref="Flushed"/> once every enqueue so far is durable at the relay (ask it before going offline).</summary>
    public sealed record Flush;

    public sealed record Flushed(int Unconfirmed);

    /// <summary>One open stream: the call, its channel, and a bounded queue drained by one writer.</summary>
    private sealed class Connection(GrpcChannel channel, AsyncDuplexStreamingCall<RelayFrame, RelayFrame> call)
    {
        public GrpcChannel Channel { get; } = channel;
        public AsyncDuplexStreamingCall<RelayFrame, RelayFrame> Call { get; } = call;
        public Channel<RelayFrame> Outbound { get; } = System.Threading.Channels.Channel.CreateBounded<RelayFrame>(4096);

        public void Close()
        {
            Outbound.Writer.TryComplete();
            Call.Dispose();
            Channel.Dispose();
        }
    }

    protected override void PreStart() => Self.Tell(new Connect());

    protected override void PostStop()
    {
        _connection?.Close();
        base.PostStop();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Connect when _connection is null:
                Open().PipeTo(Self, success: c => new Connected(c), failure: e => new ConnectFailed(e.GetBaseException().Message));
                break;
            case Connect:
                break;
            case Connected c:
                _connection = c.Connection;
                _backoff = _backoffMin;
                Pump(c.Connection);
                foreach (var frame in _unconfirmed.Values) c.Connection.Outbound.Writer.TryWrite(frame);
                // WAN presence: say where this device takes direct links, and whom it wants to hear about.
                _publishedAddress = null;
                _subscribedCount = -1;
                Resubscribe();
                Timers.StartPeriodicTimer("resubscribe", new ResubscribeTick(), TimeSpan.FromSeconds(2));
                _log.Info("Relay {Relay} connected", _relay);
                Context.System.EventStream.Publish(new RelayStateChanged(true, _relay));
                break;
            case ConnectFailed f:
                _log.Info("Relay {Relay} unreachable: {Reason}", _relay, f.Reason);
                Retry();
                break;
            case Received r when r.Connection == _connection:
                Deliver(r.Envelope);
                break;
            case Lost l when l.Connection == _connection:
                _connection = null;
                l.Connection.Close();
                _log.Info("Relay {Relay} stream closed: {Reason}", _relay, l.Reason);
                Context.System.EventStream.Publish(new RelayStateChanged(false, _relay));
                Retry();
                break;
            case RelayEnqueue e:
                var enqueue = EnqueueFrame(e);
                if (_unconfirmed.Count >= 100_000)
                {
                    _log.Warning("Relay enqueue for {Device} dropped: too many unconfirmed", e.Device.Short);
                    break;
                }
                _unconfirmed[enqueue.Enqueue.MessageId] = enqueue;
                _connection?.Outbound.Writer.TryWrite(enqueue);
                break;
            case Confirmed { Accepted.Error.Length: > 0 } refused when _unconfirmed.ContainsKey(refused.Accepted.MessageId):
                // Not stored (a node failing over, a full mailbox): it stays unconfirmed and goes
                // again in a second; only after two minutes of refusals is it given up (anti-entropy
                // still delivers it once the two devices meet).
                var id = refused.Accepted.MessageId;
                var count = _refusals[id] = _refusals.GetValueOrDefault(id) + 1;
                if (count < MaxRefusals)
                {
                    Timers.StartSingleTimer("resend-" + id.ToBase64(), new Resend(id), TimeSpan.FromSeconds(1));
                    break;
                }
                _log.Warning("Relay refused an envelope {Count} times, giving up: {Reason}", count, refused.Accepted.Error);
                Forget(id);
                break;
            case Confirmed c:
                Forget(c.Accepted.MessageId);
                break;
            case Resend r when _connection is not null && _unconfirmed.TryGetValue(r.MessageId, out var again):
                _connection.Outbound.Writer.TryWrite(again);
                break;
            case Resend:
                break;
            case Flush:
                _flushWaiters.Add(Sender);
                if (_unconfirmed.Count == 0) AnswerFlush();
                break;
            case ResubscribeTick:
                Resubscribe();
                break;
            case Noticed n when n.Connection == _connection && n.Notice.Online && n.Notice.Address.Length > 0:
                try
                {
                    if (_known.Find(n.Notice.Device.ToDeviceId()) is { } device)
                        Context.Parent.Tell(new Presence.PresenceProtocol.Seen(device.Account, device.Id, n.Notice.Address, _clock.GetUtcNow()));
                }
                catch (Core.Encoding.WireFormatException)
                {
                    // a malformed notice: ignore
                }
                break;
            case Received or Lost or Noticed:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>Contacts and co-members come and go: re-send the list when it changed.</summary>
    private void Resubscribe()
    {
        if (_connection is null) return;
        // The link listener may start after the relay stream: publish the address once it is known.
        var address = _listenAddress() ?? "";
        if (address != _publishedAddress
            && _connection.Outbound.Writer.TryWrite(new RelayFrame { PresencePublish = new PresencePublish { Address = address } }))
            _publishedAddress = address;
        var devices = _known.All;
        if (devices.Count == _subscribedCount) return;
        var subscribe = new PresenceSubscribe();
        subscribe.Devices.AddRange(devices.Select(d => d.ToWire()));
        if (_connection.Outbound.Writer.TryWrite(new RelayFrame { PresenceSubscribe = subscribe })) _subscribedCount = devices.Count;
    }

    private void Forget(ByteString id)
    {
        _unconfirmed.Remove(id);
        _refusals.Remove(id);
        if (_unconfirmed.Count == 0) AnswerFlush();
    }

    private void AnswerFlush()
    {
        foreach (var waiter in _flushWaiters) waiter.Tell(new Flushed(_unconfirmed.Count));
        _flushWaiters.Clear();
    }

    private void Retry()
    {
        Timers.StartSingleTimer("connect", new Connect(), _backoff);
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _backoffMax.Ticks));
    }

    /// <summary>A frame from the mailbox: handed on as if it had come over a link from its sender, then acknowledged.</summary>
    private void Deliver(Protocol.Relay.Envelope envelope)
    {
        try
        {
            var from = envelope.Sender.ToDeviceId();
            var frame = LinkFrame.Parser.ParseFrom(envelope.Payload);
            Context.Parent.Tell(new InboundFrame(from, frame));
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or Core.Encoding.WireFormatException)
        {
            _log.Warning("Malformed envelope from the relay dropped: {Reason}", e.Message);
        }
        // Deltas are re-sent by anti-entropy if this device crashes before persisting them, so the
        // envelope can go once handed on; holding it would replay it at every reconnect.
        var delivered = new Delivered();
        delivered.MessageIds.Add(envelope.MessageId);
        _connection?.Outbound.Writer.TryWrite(new RelayFrame { Delivered = delivered });
    }

    private static RelayFrame EnqueueFrame(RelayEnqueue e)
    {
        var enqueue = new Enqueue
        {
            MessageId = ByteString.CopyFrom(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)),
            Payload = e.Frame.ToByteString(),
        };
        enqueue.Recipients.Add(e.Device.ToWire());
        return new RelayFrame { Enqueue = enqueue };
    }

    private async Task<Connection> Open()
    {
        if (!RelayAddress.TryParse(_relay, out var address) || address is null) throw new LinkException($"not a relay address: {_relay}");
        var (host, port, pin) = (address.Host, address.Port, address.Pin);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [_certificate.Certificate],
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(certificate), pin),
            },
        };
        var channel = GrpcChannel.ForAddress(new UriBuilder(Uri.UriSchemeHttps, host, port).Uri, new GrpcChannelOptions
        {
            HttpHandler = handler, DisposeHttpClient = true, MaxReceiveMessageSize = 9 * 1024 * 1024, MaxSendMessageSize = 9 * 1024 * 1024,
        });
        var call = new RelayFront.RelayFrontClient(channel).Open();
        var connection = new Connection(channel, call);
        try
        {
            await call.RequestStream.WriteAsync(new RelayFrame { Hello = new RelayHello { Card = ByteString.CopyFrom(_card.Encoded), Device = _device.ToWire() } })
                .ConfigureAwait(false);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            if (!await call.ResponseStream.MoveNext(deadline.Token).ConfigureAwait(false) || call.ResponseStream.Current.BodyCase != RelayFrame.BodyOneofCase.Welcome)
                throw new LinkException("the relay did not welcome this device");
            return connection;
        }
        catch
        {
            connection.Close();
            throw;
        }
    }

    private void Pump(Connection connection)
    {
        var self = Self;
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var frame in connection.Outbound.Reader.ReadAllAsync().ConfigureAwait(false))
                    await connection.Call.RequestStream.WriteAsync(frame).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                self.Tell(new Lost(connection, "write failed: " + e.GetType().Name));
            }
        });
        _ = Task.Run(async () =>
        {
            var reason = "the relay closed the stream";
            try
            {
                while (await connection.Call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
                {
                    var frame = connection.Call.ResponseStream.Current;
                    if (frame.BodyCase == RelayFrame.BodyOneofCase.Envelope) self.Tell(new Received(connection, frame.Envelope));
                    else if (frame.BodyCase == RelayFrame.BodyOneofCase.Accepted) self.Tell(new Confirmed(frame.Accepted));
                    else if (frame.BodyCase == RelayFrame.BodyOneofCase.Presence) self.Tell(new Noticed(connection, frame.Presence));
                }
            }
            catch (Exception e)
            {
                reason = "read failed: " + e.GetType().Name;
            }
            self.Tell(new Lost(connection, reason));
        });
    }

}

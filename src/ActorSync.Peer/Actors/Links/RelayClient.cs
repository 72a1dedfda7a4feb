using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Links.LinkProtocol;

namespace ActorSync.Peer.Actors.Links;

/// <summary>
/// This device's route to its designated relay, down a ladder of transports in the configured
/// order: the relay's gRPC stream ("https://HOST:PORT#PIN"), then its HTTP/1.1 gateway
/// ("https://HOST:PORT/gateway#PIN"); the pin is the relay's TLS key. Drains this device's mailbox
/// (frames go to the parent as if they came over a link from their sender) and enqueues frames for
/// devices that have no direct link. Reconnects with backoff, from the top of the ladder; announces
/// its state on the event stream so links can fall back to it; asks the relay now and then how
/// many of its envelopes still wait for each recipient (shown by `ws show`).
/// </summary>
public sealed class RelayClient : UntypedActor, IWithTimers
{
    private readonly IReadOnlyList<RelayAddress> _ladder;
    private readonly DeviceCertificate _certificate;
    private readonly ContactCard _card;
    private readonly DeviceIdentity _device;
    private readonly RelayBacklog _backlog;
    private readonly TimeSpan _backoffMin;
    private readonly TimeSpan _backoffMax;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private TimeSpan _backoff;
    private RelayConnection? _connection;
    // Enqueues the relay has not yet confirmed durable: re-sent after a reconnect (the relay dedupes by id).
    private readonly Dictionary<ByteString, RelayFrame> _unconfirmed = [];
    private readonly List<IActorRef> _flushWaiters = [];
    private readonly Dictionary<ByteString, int> _refusals = [];
    private const int MaxRefusals = 120;
    // Devices this device enqueued for whose mailboxes may still hold some of its envelopes.
    private readonly HashSet<DeviceId> _awaitingDelivery = [];
    private readonly List<DeviceId> _asked = [];
    private ulong _query;
    // Mailbox envelopes handed on but not yet durable here; acknowledged to the relay once a barrier passes.
    private List<ByteString> _handedOn = [];
    private readonly Dictionary<long, List<ByteString>> _barriers = [];
    private long _barrier;

    private readonly KnownDevices _known;
    private readonly Func<string?> _listenAddress;
    private readonly TimeProvider _clock;
    private int _subscribedCount = -1;
    private string? _publishedAddress;

    public RelayClient(IReadOnlyList<RelayAddress> ladder, DeviceCertificate certificate, ContactCard card, DeviceIdentity device, KnownDevices known,
        Func<string?> listenAddress, TimeProvider clock, RelayBacklog backlog, TimeSpan backoffMin, TimeSpan backoffMax)
    {
        if (ladder.Count == 0) throw new ArgumentException("a relay client needs at least one relay address", nameof(ladder));
        _ladder = ladder;
        _known = known;
        _listenAddress = listenAddress;
        _clock = clock;
        _certificate = certificate;
        _card = card;
        _device = device;
        _backlog = backlog;
        _backoffMin = backoffMin;
        _backoffMax = backoffMax;
        _backoff = backoffMin;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>How often the relay is asked what still waits for the devices this one sent to.</summary>
    public static readonly TimeSpan BacklogInterval = TimeSpan.FromSeconds(3);

    public static Props Props(IReadOnlyList<RelayAddress> ladder, DeviceCertificate certificate, ContactCard card, DeviceIdentity device,
        KnownDevices known, Func<string?> listenAddress, TimeProvider clock, RelayBacklog backlog, TimeSpan backoffMin, TimeSpan backoffMax) =>
        Akka.Actor.Props.Create(() => new RelayClient(ladder, certificate, card, device, known, listenAddress, clock, backlog, backoffMin, backoffMax));

    /// <summary>
    /// The relay addresses in the order to try them: gRPC and HTTP gateway addresses ordered by
    /// <paramref name="order"/> ("grpc", "http"); kinds not named are not used.
    /// </summary>
    public static IReadOnlyList<RelayAddress> Ladder(IEnumerable<string> relays, IReadOnlyList<string> order)
    {
        var parsed = relays.Select(r => RelayAddress.TryParse(r, out var a) ? a : null).OfType<RelayAddress>().ToList();
        return order.SelectMany(kind => parsed.Where(a => a.IsGateway == (kind == "http"))).Distinct().ToList();
    }

    private sealed record ResubscribeTick;
    private sealed record BacklogTick;
    private sealed record BarrierTick;

    /// <summary>How often envelopes handed on are put behind a durability barrier (and then acknowledged).</summary>
    public static readonly TimeSpan AckInterval = TimeSpan.FromMilliseconds(100);
    private sealed record Noticed(RelayConnection Connection, PresenceNotice Notice);

    private sealed record Connect;
    private sealed record Connected(RelayConnection Connection);
    private sealed record ConnectFailed(string Reason);
    private sealed record Received(RelayConnection Connection, Protocol.Relay.Envelope Envelope);
    private sealed record Lost(RelayConnection Connection, string Reason);
    private sealed record Confirmed(Accepted Accepted);
    private sealed record Counted(PendingCounts Counts);
    private sealed record Resend(ByteString MessageId);

    /// <summary>Replies <see cref="Flushed"/> once every enqueue so far is durable at the relay (ask it before going offline).</summary>
    public sealed record Flush;

    public sealed record Flushed(int Unconfirmed);

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
                Timers.StartPeriodicTimer("backlog", new BacklogTick(), BacklogInterval);
                Timers.StartPeriodicTimer("barrier", new BarrierTick(), AckInterval);
                _log.Info("Relay {Relay} connected ({Route})", c.Connection.Address.HostPort, c.Connection.Address.IsGateway ? "HTTP gateway" : "gRPC");
                Context.System.EventStream.Publish(new RelayStateChanged(true, c.Connection.Address.ToString()));
                break;
            case ConnectFailed f:
                _log.Info("Relay unreachable: {Reason}", f.Reason);
                Retry();
                break;
            case Received r when r.Connection == _connection:
                Deliver(r.Envelope);
                break;
            case Lost l when l.Connection == _connection:
                _connection = null;
                l.Connection.Close();
                Timers.Cancel("backlog");
                _log.Info("Relay {Relay} route closed: {Reason}", l.Connection.Address.HostPort, l.Reason);
                Context.System.EventStream.Publish(new RelayStateChanged(false, l.Connection.Address.ToString()));
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
                _awaitingDelivery.Add(e.Device);
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
            case BacklogTick when _connection is not null && _awaitingDelivery.Count > 0:
                var query = new PendingQuery { Query = ++_query };
                _asked.Clear();
                _asked.AddRange(_awaitingDelivery.Take(256));
                query.Devices.AddRange(_asked.Select(d => d.ToWire()));
                _connection.Outbound.Writer.TryWrite(new RelayFrame { PendingQuery = query });
                break;
            case BacklogTick:
                break;
            case BarrierTick when _handedOn.Count > 0:
                _barriers[++_barrier] = _handedOn;
                _handedOn = [];
                Context.Parent.Tell(new DurabilityBarrier(_barrier, Self));
                break;
            case BarrierTick:
                break;
            case BarrierPassed passed when _barriers.Remove(passed.Id, out var durable):
                if (!passed.Ok)
                {
                    // Some workspace did not confirm: keep them, and try again with the next barrier.
                    _handedOn.AddRange(durable);
                    break;
                }
                foreach (var chunk in durable.Chunk(5_000))
                {
                    var delivered = new Delivered();
                    delivered.MessageIds.AddRange(chunk);
                    _connection?.Outbound.Writer.TryWrite(new RelayFrame { Delivered = delivered });
                }
                break;
            case BarrierPassed:
                break;
            case Counted counted when counted.Counts.Query == _query && counted.Counts.Counts.Count == _asked.Count:
                for (var i = 0; i < _asked.Count; i++)
                {
                    var waiting = counted.Counts.Counts[i];
                    _backlog.Set(_asked[i], waiting);
                    // Everything sent so far was delivered: stop asking until something new goes this way.
                    if (waiting == 0 && !_unconfirmed.Values.Any(f => f.Enqueue.Recipients.Contains(_asked[i].ToWire()))) _awaitingDelivery.Remove(_asked[i]);
                }
                break;
            case Counted:
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
        // Acknowledged only once what it carried is durable here (a barrier behind it passes): a
        // crash before that leaves it in the mailbox, to be delivered again.
        _handedOn.Add(envelope.MessageId);
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

    /// <summary>Down the ladder: the first route that opens wins; the reasons of all when none does.</summary>
    private async Task<RelayConnection> Open()
    {
        var reasons = new List<string>();
        foreach (var address in _ladder)
        {
            try
            {
                return address.IsGateway
                    ? await HttpRelayConnection.OpenAsync(address, _card, _device).ConfigureAwait(false)
                    : await GrpcRelayConnection.OpenAsync(address, _certificate, _card, _device.Id).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                reasons.Add($"{address.HostPort}{(address.IsGateway ? " (HTTP gateway)" : "")}: {e.GetBaseException().Message}");
            }
        }
        throw new LinkException(string.Join("; ", reasons));
    }

    private void Pump(RelayConnection connection)
    {
        var self = Self;
        _ = Task.Run(async () =>
        {
            var reason = await connection.RunAsync(frame =>
            {
                switch (frame.BodyCase)
                {
                    case RelayFrame.BodyOneofCase.Envelope:
                        self.Tell(new Received(connection, frame.Envelope));
                        break;
                    case RelayFrame.BodyOneofCase.Accepted:
                        self.Tell(new Confirmed(frame.Accepted));
                        break;
                    case RelayFrame.BodyOneofCase.Presence:
                        self.Tell(new Noticed(connection, frame.Presence));
                        break;
                    case RelayFrame.BodyOneofCase.PendingCounts:
                        self.Tell(new Counted(frame.PendingCounts));
                        break;
                }
            }).ConfigureAwait(false);
            self.Tell(new Lost(connection, reason));
        });
    }
}

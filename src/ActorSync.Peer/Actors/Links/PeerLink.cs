using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using static ActorSync.Peer.Actors.Links.LinkProtocol;

namespace ActorSync.Peer.Actors.Links;

/// <summary>
/// Owns the route to one remote device, best first: a direct link (dialed with backoff when it has
/// an address, or accepted; when both sides dialed, the one dialed by the lower device id wins, so
/// both ends agree), else the relay (when this device's relay stream is up and the remote device's
/// card names a relay). Pumps frames to the link manager and announces route changes.
/// </summary>
public sealed class PeerLink : UntypedActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;
    private readonly DeviceId _self;
    private readonly DeviceId _remote;
    private readonly ILinkTransport _transport;
    private readonly KnownDevices _known;
    private readonly IActorRef _relay;
    private string? _relayRoute;
    private string _route = "none";
    private readonly TimeSpan _backoffMin;
    private readonly TimeSpan _backoffMax;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private ILinkConnection? _connection;
    // Links that lost the tie-break: still read until they close (the other end may have sent on
    // them before it chose), closed by us after a grace period.
    private readonly HashSet<ILinkConnection> _draining = [];
    private int _drainSerial;
    private string? _address;
    private bool _dialing;
    private TimeSpan _backoff;

    public PeerLink(DeviceId self, DeviceId remote, ILinkTransport transport, KnownDevices known, IActorRef relay, string? relayRoute,
        TimeSpan backoffMin, TimeSpan backoffMax)
    {
        _self = self;
        _remote = remote;
        _transport = transport;
        _known = known;
        _relay = relay;
        _relayRoute = relayRoute;
        _backoffMin = backoffMin;
        _backoffMax = backoffMax;
        _backoff = backoffMin;
    }

    public static Props Props(DeviceId self, DeviceId remote, ILinkTransport transport, KnownDevices known, IActorRef relay, string? relayRoute,
        TimeSpan backoffMin, TimeSpan backoffMax) =>
        Akka.Actor.Props.Create(() => new PeerLink(self, remote, transport, known, relay, relayRoute, backoffMin, backoffMax));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(RelayStateChanged));
        UpdateRoute();
    }

    private sealed record Dialed(ILinkConnection Connection);
    private sealed record DialFailed(string Reason);
    private sealed record Received(ILinkConnection Connection, LinkFrame Frame);
    private sealed record ConnectionClosed(ILinkConnection Connection, string Reason);
    private sealed record Redial;
    private sealed record CloseDrained(ILinkConnection Connection);

    /// <summary>An inbound link for this device, handed over by the link manager.</summary>
    public sealed record Accept(ILinkConnection Connection);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case DialHint hint:
                _address = hint.Address;
                if (_connection is null) DialNow();
                break;
            case Redial when _connection is null:
                DialNow();
                break;
            case Redial:
                break;
            case Dialed d:
                _dialing = false;
                Adopt(d.Connection);
                break;
            case DialFailed f:
                _dialing = false;
                _log.Debug("Dial to {Device} failed: {Reason}", _remote.Short, f.Reason);
                ScheduleRedial();
                break;
            case Accept a:
                Adopt(a.Connection);
                break;
            case SendFrame send when _connection is not null:
                if (!_connection.TrySend(send.Frame)) _log.Debug("Frame to {Device} dropped: send queue full", _remote.Short);
                break;
            case SendFrame send when _route.StartsWith("relay", StringComparison.Ordinal):
                _relay.Tell(new RelayEnqueue(_remote, send.Frame));
                break;
            case SendFrame:
                _log.Debug("Frame to {Device} dropped: no route", _remote.Short);
                break;
            case RelayStateChanged relay:
                _relayRoute = relay.Up ? relay.Route : null;
                UpdateRoute();
                break;
            case Received r when r.Connection == _connection || _draining.Contains(r.Connection):
                Context.Parent.Tell(new InboundFrame(_remote, r.Frame));
                break;
            case CloseDrained d:
                if (_draining.Remove(d.Connection)) _ = d.Connection.DisposeAsync().AsTask();
                break;
            case ConnectionClosed c when _draining.Contains(c.Connection):
                _draining.Remove(c.Connection);
                break;
            case Received:
                break;
            case ConnectionClosed c when c.Connection == _connection:
                _connection = null;
                _log.Info("Link to {Device} closed: {Reason}", _remote.Short, c.Reason);
                UpdateRoute();
                _backoff = _backoffMin;
                ScheduleRedial();
                break;
            case ConnectionClosed:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void DialNow()
    {
        if (_dialing || _address is null) return;
        _dialing = true;
        var address = _address;
        _transport.DialAsync(_remote, address, _stop.Token).PipeTo(Self,
            success: c => new Dialed(c),
            failure: e => new DialFailed(e is LinkException ? e.Message : e.GetType().Name));
    }

    private void ScheduleRedial()
    {
        if (_address is null) return;
        Timers.StartSingleTimer("redial", new Redial(), _backoff);
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _backoffMax.Ticks));
    }

    private void Adopt(ILinkConnection connection)
    {
        Pump(connection);
        if (_connection is not null)
        {
            // Both ends dialed at once: keep the link dialed by the lower device id, on both ends.
            var keepNew = DialerOf(connection).CompareTo(DialerOf(_connection)) < 0;
            var loser = keepNew ? _connection : connection;
            _draining.Add(loser);
            Timers.StartSingleTimer("drain-" + _drainSerial++, new CloseDrained(loser), TimeSpan.FromSeconds(5));
            if (!keepNew) return;
        }
        _connection = connection;
        _backoff = _backoffMin;
        _log.Info("Link to {Device} up ({Direction})", _remote.Short, connection.Inbound ? "inbound" : "outbound");
        // Announced on every adoption, even direct-to-direct: workspaces resync and re-offer invitations.
        UpdateRoute(force: true);
    }

    private void Pump(ILinkConnection connection)
    {
        var self = Self;
        var token = _stop.Token;
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var frame in connection.ReadAllAsync(token).ConfigureAwait(false))
                    self.Tell(new Received(connection, frame));
            }
            catch (Exception e) when (e is OperationCanceledException or LinkException or IOException or InvalidOperationException)
            {
                // the link is down; Closed below says why
            }
            var reason = connection.Closed.IsCompleted ? await connection.Closed.ConfigureAwait(false) : "stream ended";
            self.Tell(new ConnectionClosed(connection, reason));
        }, CancellationToken.None);
    }

    /// <summary>Direct beats relay beats none; every change is announced (workspaces resync on "up").</summary>
    private void UpdateRoute(bool force = false)
    {
        var route = _connection is not null ? "direct"
            : _relayRoute is not null && !_relay.IsNobody() && _known.Find(_remote) is { Relays.Count: > 0 } ? _relayRoute
            : "none";
        if (route == _route && !force) return;
        _route = route;
        Context.System.EventStream.Publish(new LinkStateChanged(_remote, route != "none", route));
    }

    private DeviceId DialerOf(ILinkConnection c) => c.Inbound ? _remote : _self;

    protected override void PostStop()
    {
        _stop.Cancel();
        if (_connection is not null) _ = _connection.DisposeAsync().AsTask();
        foreach (var drained in _draining) _ = drained.DisposeAsync().AsTask();
        _stop.Dispose();
        base.PostStop();
    }
}

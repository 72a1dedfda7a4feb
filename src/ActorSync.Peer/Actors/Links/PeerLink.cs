using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using static ActorSync.Peer.Actors.Links.LinkProtocol;

namespace ActorSync.Peer.Actors.Links;

/// <summary>
/// Owns the link to one remote device: dials with backoff when it has an address, accepts inbound
/// links, keeps exactly one (when both sides dialed, the one dialed by the lower device id wins, so
/// both ends agree), pumps frames to the link manager and announces up/down on the event stream.
/// </summary>
public sealed class PeerLink : UntypedActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;
    private readonly DeviceId _self;
    private readonly DeviceId _remote;
    private readonly ILinkTransport _transport;
    private readonly TimeSpan _backoffMin;
    private readonly TimeSpan _backoffMax;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stop = new();
    private ILinkConnection? _connection;
    private string? _address;
    private bool _dialing;
    private TimeSpan _backoff;

    public PeerLink(DeviceId self, DeviceId remote, ILinkTransport transport, TimeSpan backoffMin, TimeSpan backoffMax)
    {
        _self = self;
        _remote = remote;
        _transport = transport;
        _backoffMin = backoffMin;
        _backoffMax = backoffMax;
        _backoff = backoffMin;
    }

    public static Props Props(DeviceId self, DeviceId remote, ILinkTransport transport, TimeSpan backoffMin, TimeSpan backoffMax) =>
        Akka.Actor.Props.Create(() => new PeerLink(self, remote, transport, backoffMin, backoffMax));

    private sealed record Dialed(ILinkConnection Connection);
    private sealed record DialFailed(string Reason);
    private sealed record Received(ILinkConnection Connection, LinkFrame Frame);
    private sealed record ConnectionClosed(ILinkConnection Connection, string Reason);
    private sealed record Redial;

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
            case SendFrame send:
                if (_connection is null || !_connection.TrySend(send.Frame))
                    _log.Debug("Frame to {Device} dropped: no link or queue full", _remote.Short);
                break;
            case Received r when r.Connection == _connection:
                Context.Parent.Tell(new InboundFrame(_remote, r.Frame));
                break;
            case Received:
                break;
            case ConnectionClosed c when c.Connection == _connection:
                _connection = null;
                _log.Info("Link to {Device} closed: {Reason}", _remote.Short, c.Reason);
                Context.System.EventStream.Publish(new LinkStateChanged(_remote, false, "none"));
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
        if (_connection is not null)
        {
            // Both ends dialed at once: keep the link dialed by the lower device id, on both ends.
            var keepNew = DialerOf(connection).CompareTo(DialerOf(_connection)) < 0;
            var loser = keepNew ? _connection : connection;
            _ = loser.DisposeAsync().AsTask();
            if (!keepNew) return;
        }
        _connection = connection;
        _backoff = _backoffMin;
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
        var route = connection.Inbound ? "direct (inbound)" : "direct";
        _log.Info("Link to {Device} up ({Route})", _remote.Short, route);
        Context.System.EventStream.Publish(new LinkStateChanged(_remote, true, "direct"));
    }

    private DeviceId DialerOf(ILinkConnection c) => c.Inbound ? _remote : _self;

    protected override void PostStop()
    {
        _stop.Cancel();
        if (_connection is not null) _ = _connection.DisposeAsync().AsTask();
        _stop.Dispose();
        base.PostStop();
    }
}

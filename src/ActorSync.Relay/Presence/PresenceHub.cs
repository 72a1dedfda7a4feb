using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using ActorSync.Protocol.Relay;

namespace ActorSync.Relay.Presence;

/// <summary>
/// WAN presence on one relay node: remembers which devices are online anywhere in the cluster (and
/// at which direct address), learns it from its own sessions and from the other nodes through
/// DistributedPubSub (at most once: fine for presence, never used for deltas), and answers sessions
/// that subscribe to devices with the current state and every change.
/// </summary>
public sealed class PresenceHub : UntypedActor, IWithTimers
{
    public const string Topic = "actorsync-presence";
    private readonly IActorRef _mediator = DistributedPubSub.Get(Context.System).Mediator;
    private readonly Dictionary<string, PresenceNotice> _online = [];
    private readonly Dictionary<IActorRef, HashSet<string>> _subscribers = [];
    // Devices on the HTTP gateway have no stream whose end says they left: they are online while
    // they keep renewing a lease, and offline once it runs out.
    private readonly Dictionary<string, (PresenceNotice Notice, DateTimeOffset Until)> _leases = [];
    private readonly TimeProvider _clock;

    public PresenceHub(TimeProvider clock) => _clock = clock;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeProvider? clock = null)
    {
        var time = clock ?? TimeProvider.System;
        return Akka.Actor.Props.Create(() => new PresenceHub(time));
    }

    /// <summary>A gateway device is online at an address for <paramref name="For"/> unless renewed.</summary>
    public sealed record Lease(PresenceNotice Notice, TimeSpan For);

    /// <summary>Which of these devices (hex ids) are online now? Replies a <see cref="PresenceList"/>.</summary>
    public sealed record Query(IReadOnlyCollection<string> Devices);

    private sealed record ExpireLeases;

    /// <summary>A session's device went online or offline here (published cluster-wide).</summary>
    public sealed record Local(PresenceNotice Notice);

    /// <summary>A session wants notices about these devices (device id bytes as hex).</summary>
    public sealed record Subscribe(IActorRef Session, IReadOnlyCollection<string> Devices);

    public sealed record Unsubscribe(IActorRef Session);

    protected override void PreStart()
    {
        _mediator.Tell(new Akka.Cluster.Tools.PublishSubscribe.Subscribe(Topic, Self));
        Timers.StartPeriodicTimer("leases", new ExpireLeases(), TimeSpan.FromSeconds(5));
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Local local:
                _mediator.Tell(new Publish(Topic, local.Notice));
                break;
            case PresenceNotice notice:
                var key = Convert.ToHexString(notice.Device.Span);
                if (notice.Online) _online[key] = notice;
                else _online.Remove(key);
                foreach (var (session, devices) in _subscribers)
                    if (devices.Contains(key)) session.Tell(notice);
                break;
            case Subscribe s:
                if (_subscribers.TryAdd(s.Session, [])) Context.Watch(s.Session);
                _subscribers[s.Session] = s.Devices.ToHashSet();
                foreach (var device in s.Devices)
                    if (_online.TryGetValue(device, out var known)) s.Session.Tell(known);
                break;
            case Lease lease:
            {
                var device = Convert.ToHexString(lease.Notice.Device.Span);
                var renewed = _leases.TryGetValue(device, out var held) && held.Notice.Address == lease.Notice.Address;
                _leases[device] = (lease.Notice, _clock.GetUtcNow() + lease.For);
                if (!renewed) _mediator.Tell(new Publish(Topic, lease.Notice));
                break;
            }
            case ExpireLeases:
            {
                var now = _clock.GetUtcNow();
                foreach (var (device, held) in _leases.Where(l => l.Value.Until < now).ToList())
                {
                    _leases.Remove(device);
                    _mediator.Tell(new Publish(Topic, new PresenceNotice { Device = held.Notice.Device, Online = false }));
                }
                break;
            }
            case Query query:
            {
                var list = new PresenceList();
                foreach (var device in query.Devices)
                    if (_online.TryGetValue(device, out var known)) list.Notices.Add(known);
                Sender.Tell(list);
                break;
            }
            case Unsubscribe u:
                _subscribers.Remove(u.Session);
                Context.Unwatch(u.Session);
                break;
            case Terminated t:
                _subscribers.Remove(t.ActorRef);
                break;
            case SubscribeAck:
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}

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
public sealed class PresenceHub : UntypedActor
{
    public const string Topic = "actorsync-presence";
    private readonly IActorRef _mediator = DistributedPubSub.Get(Context.System).Mediator;
    private readonly Dictionary<string, PresenceNotice> _online = [];
    private readonly Dictionary<IActorRef, HashSet<string>> _subscribers = [];

    public static Props Props() => Akka.Actor.Props.Create(() => new PresenceHub());

    /// <summary>A session's device went online or offline here (published cluster-wide).</summary>
    public sealed record Local(PresenceNotice Notice);

    /// <summary>A session wants notices about these devices (device id bytes as hex).</summary>
    public sealed record Subscribe(IActorRef Session, IReadOnlyCollection<string> Devices);

    public sealed record Unsubscribe(IActorRef Session);

    protected override void PreStart() => _mediator.Tell(new Akka.Cluster.Tools.PublishSubscribe.Subscribe(Topic, Self));

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

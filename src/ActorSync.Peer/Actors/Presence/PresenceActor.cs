using Akka.Actor;
using ActorSync.Core.Identity;
using ActorSync.Peer.Actors.Links;
using static ActorSync.Peer.Actors.Presence.PresenceProtocol;

namespace ActorSync.Peer.Actors.Presence;

/// <summary>
/// /presence: one child per known account (<see cref="AccountPresenceActor"/>), one grandchild per
/// device (<see cref="DevicePresenceActor"/>). Sources: LAN announcements, contacts' address hints,
/// link state. Time comes in with ticks from the injected clock, so tests drive the thresholds.
/// </summary>
public sealed class PresenceActor : UntypedActor, IWithTimers
{
    private readonly IActorRef _links;
    private readonly KnownDevices _known;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _unreachableAfter;
    private readonly TimeSpan _goneAfter;
    private readonly TimeSpan _tickInterval;

    public PresenceActor(IActorRef links, KnownDevices known, TimeProvider clock, TimeSpan unreachableAfter, TimeSpan goneAfter, TimeSpan tickInterval)
    {
        _links = links;
        _known = known;
        _clock = clock;
        _unreachableAfter = unreachableAfter;
        _goneAfter = goneAfter;
        _tickInterval = tickInterval;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef links, KnownDevices known, TimeProvider clock, TimeSpan unreachableAfter, TimeSpan goneAfter, TimeSpan tickInterval) =>
        Akka.Actor.Props.Create(() => new PresenceActor(links, known, clock, unreachableAfter, goneAfter, tickInterval));

    private sealed record TimerTick;

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(LinkProtocol.LinkStateChanged));
        if (_tickInterval > TimeSpan.Zero) Timers.StartPeriodicTimer("tick", new TimerTick(), _tickInterval);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Seen seen:
                AccountChild(seen.Account).Forward(new AccountPresenceActor.ToDevice(seen.Device, seen));
                break;
            case AddressHint hint:
                AccountChild(hint.Account).Forward(new AccountPresenceActor.ToDevice(hint.Device, hint));
                break;
            case LinkProtocol.LinkStateChanged change when _known.Find(change.Device) is { } device:
                // Only a direct link says the device itself is there; a relay route does not.
                var up = change.Up && change.Route == "direct";
                AccountChild(device.Account).Forward(new AccountPresenceActor.ToDevice(change.Device, new LinkChanged(up, _clock.GetUtcNow())));
                break;
            case LinkProtocol.LinkStateChanged:
                break;
            case TimerTick:
                Self.Tell(new Tick(_clock.GetUtcNow()));
                break;
            case Tick tick:
                foreach (var account in Context.GetChildren()) account.Tell(tick);
                break;
            case GetPresence:
                var asks = Context.GetChildren().Select(a => a.Ask<PresenceSnapshot>(new GetPresence(), TimeSpan.FromSeconds(5))).ToList();
                Task.WhenAll(asks).PipeTo(Sender, success: all => new PresenceSnapshot(all.SelectMany(s => s.Devices).ToList()));
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private IActorRef AccountChild(AccountId account)
    {
        var name = account.ToString();
        var child = Context.Child(name);
        return child.IsNobody()
            ? Context.ActorOf(AccountPresenceActor.Props(account, _links, _unreachableAfter, _goneAfter), name)
            : child;
    }
}

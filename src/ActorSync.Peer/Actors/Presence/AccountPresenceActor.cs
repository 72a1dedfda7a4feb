using Akka.Actor;
using ActorSync.Core.Identity;
using static ActorSync.Peer.Actors.Presence.PresenceProtocol;

namespace ActorSync.Peer.Actors.Presence;

/// <summary>/presence/&lt;account&gt;: the devices of one account; fans ticks and queries out to them.</summary>
public sealed class AccountPresenceActor : UntypedActor
{
    private readonly AccountId _account;
    private readonly IActorRef _links;
    private readonly TimeSpan _unreachableAfter;
    private readonly TimeSpan _goneAfter;

    public AccountPresenceActor(AccountId account, IActorRef links, TimeSpan unreachableAfter, TimeSpan goneAfter)
    {
        _account = account;
        _links = links;
        _unreachableAfter = unreachableAfter;
        _goneAfter = goneAfter;
    }

    public static Props Props(AccountId account, IActorRef links, TimeSpan unreachableAfter, TimeSpan goneAfter) =>
        Akka.Actor.Props.Create(() => new AccountPresenceActor(account, links, unreachableAfter, goneAfter));

    /// <summary>A message for one device of this account.</summary>
    public sealed record ToDevice(DeviceId Device, object Message);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case ToDevice to:
                var name = to.Device.ToString();
                var child = Context.Child(name);
                if (child.IsNobody()) child = Context.ActorOf(DevicePresenceActor.Props(_account, to.Device, _links, _unreachableAfter, _goneAfter), name);
                child.Forward(to.Message);
                break;
            case Tick tick:
                foreach (var device in Context.GetChildren()) device.Tell(tick);
                break;
            case GetPresence:
                var asks = Context.GetChildren().Select(d => d.Ask<DevicePresence>(new GetPresence(), TimeSpan.FromSeconds(5))).ToList();
                Task.WhenAll(asks).PipeTo(Sender, success: all => new PresenceSnapshot(all));
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}

using Akka.Actor;
using ActorSync.Core.Identity;
using ActorSync.Peer.Actors.Links;
using static ActorSync.Peer.Actors.Presence.PresenceProtocol;

namespace ActorSync.Peer.Actors.Presence;

/// <summary>
/// One device's presence: online while its link is up or it was heard within the first
/// threshold, unreachable after that, gone (address forgotten) after the second. Hands every new
/// address to the link manager so a link can be dialed.
/// </summary>
public sealed class DevicePresenceActor : UntypedActor
{
    private readonly AccountId _account;
    private readonly DeviceId _device;
    private readonly IActorRef _links;
    private readonly TimeSpan _unreachableAfter;
    private readonly TimeSpan _goneAfter;
    private PresenceStatus _status = PresenceStatus.Unknown;
    private string? _address;
    private DateTimeOffset? _lastSeen;
    private bool _linkUp;

    public DevicePresenceActor(AccountId account, DeviceId device, IActorRef links, TimeSpan unreachableAfter, TimeSpan goneAfter)
    {
        _account = account;
        _device = device;
        _links = links;
        _unreachableAfter = unreachableAfter;
        _goneAfter = goneAfter;
    }

    public static Props Props(AccountId account, DeviceId device, IActorRef links, TimeSpan unreachableAfter, TimeSpan goneAfter) =>
        Akka.Actor.Props.Create(() => new DevicePresenceActor(account, device, links, unreachableAfter, goneAfter));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Seen seen:
                _lastSeen = seen.At;
                if (seen.Address is { } address && address != _address) Hint(address);
                Become(PresenceStatus.Online);
                break;
            case AddressHint hint:
                if (hint.Address != _address) Hint(hint.Address);
                break;
            case LinkChanged change:
                // Up or down, the device was there at that moment: thresholds count from then.
                _linkUp = change.Up;
                _lastSeen = change.At;
                if (change.Up) Become(PresenceStatus.Online);
                break;
            case Tick tick:
                Evaluate(tick.Now);
                break;
            case GetPresence:
                Sender.Tell(View());
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Hint(string address)
    {
        _address = address;
        _links.Tell(new LinkProtocol.DialHint(_device, address));
    }

    private void Evaluate(DateTimeOffset now)
    {
        if (_linkUp || _lastSeen is null) return;
        var silent = now - _lastSeen.Value;
        if (silent >= _goneAfter)
        {
            _address = null;
            Become(PresenceStatus.Gone);
        }
        else if (silent >= _unreachableAfter)
        {
            Become(PresenceStatus.Unreachable);
        }
    }

    private void Become(PresenceStatus next)
    {
        if (next == _status) return;
        var previous = _status;
        _status = next;
        Context.System.EventStream.Publish(new PresenceChanged(View(), previous));
    }

    private DevicePresence View() => new(_account, _device, _status, _address, _lastSeen);
}

using System.Threading.Channels;
using Akka.Actor;
using ActorSync.Protocol.Relay;
using Envelope = ActorSync.Protocol.Relay.Envelope;

namespace ActorSync.Relay.Front;

/// <summary>
/// The actor face of one connected device's stream: its mailbox sends envelopes here, and they go
/// into the stream's bounded outbound queue. If the device reads too slowly to keep up, the
/// session ends (the device reconnects and drains from its mailbox again) instead of buffering
/// without bound.
/// </summary>
public sealed class RelaySession : UntypedActor
{
    private readonly ChannelWriter<RelayFrame> _outbound;
    private readonly CancellationTokenSource _end;

    public RelaySession(ChannelWriter<RelayFrame> outbound, CancellationTokenSource end)
    {
        _outbound = outbound;
        _end = end;
    }

    public static Props Props(ChannelWriter<RelayFrame> outbound, CancellationTokenSource end) =>
        Akka.Actor.Props.Create(() => new RelaySession(outbound, end));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case PresenceNotice notice:
                if (!_outbound.TryWrite(new RelayFrame { Presence = notice }))
                {
                    _end.Cancel();
                    Context.Stop(Self);
                }
                break;
            case Envelope envelope:
                if (!_outbound.TryWrite(new RelayFrame { Envelope = envelope }))
                {
                    _end.Cancel();
                    Context.Stop(Self);
                }
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}

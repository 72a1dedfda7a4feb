using Akka.Actor;
using ActorSync.Protocol.Relay;
using Envelope = ActorSync.Protocol.Relay.Envelope;

namespace ActorSync.Relay.Gateway;

/// <summary>
/// One long-poll GET of the HTTP gateway, as an actor the device's mailbox delivers to: it attaches
/// with a window of one batch, answers as soon as envelopes came (after a short pause that lets the
/// rest of a burst join the batch), or empty when the wait is over, then detaches and stops.
/// Envelopes it did not hand out stay in the mailbox for the next poll; the device acknowledges
/// what it got with POST delivered.
/// </summary>
public sealed class PollSession : ReceiveActor, IWithTimers
{
    private readonly TaskCompletionSource<EnvelopeBatch> _answer;
    private readonly IActorRef _mailboxes;
    private readonly MailboxAttach _attach;
    private readonly int _maxCount;
    private readonly long _maxBytes;
    private readonly EnvelopeBatch _batch = new();
    private long _bytes;

    public PollSession(TaskCompletionSource<EnvelopeBatch> answer, IActorRef mailboxes, Google.Protobuf.ByteString recipient, TimeSpan wait,
        int maxCount, long maxBytes)
    {
        _answer = answer;
        _mailboxes = mailboxes;
        _maxCount = maxCount;
        _maxBytes = maxBytes;
        _attach = new MailboxAttach { Recipient = recipient, Window = (uint)maxCount };
        Receive<Envelope>(Add);
        Receive<Finish>(_ => Answer());
        ReceiveAny(_ => { });
        Wait = wait;
    }

    private TimeSpan Wait { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>How long after the first envelope the batch stays open for the rest of a burst.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);

    public static Props Props(TaskCompletionSource<EnvelopeBatch> answer, IActorRef mailboxes, Google.Protobuf.ByteString recipient, TimeSpan wait,
        int maxCount, long maxBytes) =>
        Akka.Actor.Props.Create(() => new PollSession(answer, mailboxes, recipient, wait, maxCount, maxBytes));

    /// <summary>Answer now with what has come (the wait is over, or the HTTP request went away).</summary>
    public sealed class Finish
    {
        public static readonly Finish Instance = new();
        private Finish() { }
    }

    protected override void PreStart()
    {
        _mailboxes.Tell(_attach, Self);
        Timers.StartSingleTimer("wait", Finish.Instance, Wait);
    }

    private void Add(Envelope envelope)
    {
        if (_answer.Task.IsCompleted) return;
        // Always take one, so an envelope bigger than the byte budget still gets through.
        if (_batch.Envelopes.Count > 0 && _bytes + envelope.Payload.Length > _maxBytes)
        {
            Answer();
            return;
        }
        _batch.Envelopes.Add(envelope);
        _bytes += envelope.Payload.Length;
        if (_batch.Envelopes.Count >= _maxCount || _bytes >= _maxBytes) Answer();
        else if (_batch.Envelopes.Count == 1) Timers.StartSingleTimer("wait", Finish.Instance, Linger);
    }

    private void Answer()
    {
        if (_answer.TrySetResult(_batch))
        {
            _mailboxes.Tell(new MailboxDetach { Recipient = _attach.Recipient }, Self);
            Context.Stop(Self);
        }
    }
}

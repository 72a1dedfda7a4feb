using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Persistence;
using ActorSync.Core.Identity;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using Google.Protobuf;
using static ActorSync.Relay.Mailboxes.MailboxProtocol;
using Envelope = ActorSync.Protocol.Relay.Envelope;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// The mailbox of one recipient device (persistence id "mailbox-&lt;device id&gt;"), run as a
/// Cluster.Sharding entity whose entity id is the device id text. A thin shell around the pure
/// <see cref="MailboxState"/>, shaped like Akka's EventSourcedProducerQueue: a store is answered
/// <c>MailboxReply{accepted}</c> only once its <see cref="EnvelopeStored"/> is in the journal
/// ("accepted" means durable); a duplicate id is answered accepted without a second write; a full
/// quota is refused with the reason. An attached session (the front end's actor for the connected
/// device) gets every held envelope in acceptance order, then each new one as it becomes durable.
/// The device's acknowledgement (<see cref="MailboxDelivered"/>) deletes; ticks expire what is
/// older than the dormancy period.
/// Every write uses Persist (not PersistAsync), so commands wait while a write is in flight and
/// each decision sees every earlier write: no decision is ever made on a state that might not
/// become durable.
/// </summary>
public sealed class MailboxActor : UntypedPersistentActor, IWithTimers
{
    private const string ExpiryTimer = "expiry";
    private const string IdleTimer = "idle";

    private readonly DeviceId _recipient;
    private readonly ByteString _recipientWire;
    private readonly MailboxSettings _settings;
    private readonly TimeProvider _clock;
    private readonly MailboxState _state;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _session;

    /// <summary>Who waits for the store being written (one at a time, as Persist stashes commands meanwhile).</summary>
    private (IActorRef ReplyTo, ByteString MessageId)? _storing;

    public MailboxActor(DeviceId recipient, MailboxSettings settings, TimeProvider clock)
    {
        _recipient = recipient;
        _recipientWire = recipient.ToWire();
        _settings = settings.Validated();
        _clock = clock;
        _state = new MailboxState(settings);
        PersistenceId = PersistenceIdFor(recipient);
    }

    /// <summary>Props of the mailbox of <paramref name="recipient"/>; the clock stamps acceptance times (default: the system clock).</summary>
    public static Props Props(DeviceId recipient, MailboxSettings settings, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var time = clock ?? TimeProvider.System;
        return Akka.Actor.Props.Create(() => new MailboxActor(recipient, settings, time));
    }

    /// <summary>The one place the journal key of a mailbox is made.</summary>
    public static string PersistenceIdFor(DeviceId recipient) => "mailbox-" + recipient;

    public override string PersistenceId { get; }
    public ITimerScheduler Timers { get; set; } = null!;

    protected override void OnRecover(object message)
    {
        switch (message)
        {
            case EnvelopeStored stored:
                _state.Apply(stored);
                break;
            case EnvelopesRemoved removed:
                _state.Apply(removed);
                break;
            case RecoveryCompleted:
                if (_settings.ExpiryInterval > TimeSpan.Zero) Timers.StartPeriodicTimer(ExpiryTimer, ExpiryDue.Instance, _settings.ExpiryInterval);
                if (!_state.IsEmpty)
                {
                    _log.Info("Mailbox {Mailbox} recovered: {Envelopes} envelopes, {Bytes} bytes", _recipient.Short, _state.Count, _state.Bytes);
                    // A mailbox may come back after a long while (a node was down): expire at once, not an interval later.
                    Self.Tell(ExpiryDue.Instance);
                }
                ArmIdle();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case MailboxStore store:
                Store(store);
                break;
            case MailboxDelivered delivered when IsMine(delivered.Recipient, "delivered"):
                Remove(_state.Delivered(delivered.MessageIds));
                break;
            case MailboxAttach attach when IsMine(attach.Recipient, "attach"):
                Attach(attach.Window);
                break;
            case MailboxDetach detach when IsMine(detach.Recipient, "detach"):
                if (Equals(Sender, _session)) Forget();
                break;
            case MailboxTick tick:
                Remove(_state.Expire(tick.Now, _settings.DormantAfter));
                break;
            case ExpiryDue:
                Remove(_state.Expire(_clock.GetUtcNow(), _settings.DormantAfter));
                break;
            case Terminated terminated:
                if (Equals(terminated.ActorRef, _session)) Forget();
                break;
            case IdleDue:
                if (IsIdle) Context.Parent.Tell(new Passivate(StopMailbox.Instance));
                break;
            case StopMailbox:
                Context.Stop(Self);
                break;
            case GetMailboxStatus:
                Sender.Tell(new MailboxStatus(_state.Count, _state.Bytes, _session is not null, _state.RememberedCount));
                break;
            case MailboxPendingFrom pending:
                Sender.Tell(new MailboxPendingCount { Count = pending.Recipient.Equals(_recipientWire) ? (uint)_state.CountFrom(pending.Sender) : 0 });
                break;
            case MailboxDelivered or MailboxAttach or MailboxDetach:
                break; // another device's request, logged by IsMine
            default:
                Unhandled(message);
                break;
        }
    }

    private void Store(MailboxStore store)
    {
        var replyTo = Sender;
        if (!store.Recipient.Equals(_recipientWire))
        {
            replyTo.Tell(Reply(store.MessageId, "this mailbox belongs to another device"));
            return;
        }
        switch (_state.Decide(store, _clock.GetUtcNow()))
        {
            case MailboxDecision.Store decided:
                _storing = (replyTo, store.MessageId);
                Persist(decided.Event, stored =>
                {
                    _storing = null;
                    _state.Apply(stored);
                    replyTo.Tell(Reply(stored.MessageId));
                    _session?.Tell(ToEnvelope(stored), Self);
                    ArmIdle();
                });
                break;
            case MailboxDecision.Duplicate:
                replyTo.Tell(Reply(store.MessageId));
                break;
            case MailboxDecision.Refused refused:
                _log.Info("Mailbox {Mailbox} refused an envelope: {Reason}", _recipient.Short, refused.Error);
                replyTo.Tell(Reply(store.MessageId, refused.Error));
                break;
        }
    }

    private void Remove(EnvelopesRemoved? removed)
    {
        if (removed is null) return;
        Persist(removed, done =>
        {
            _state.Apply(done);
            if (done.Expired) _log.Info("Mailbox {Mailbox}: {Count} envelopes expired undelivered", _recipient.Short, done.MessageIds.Count);
            ArmIdle();
        });
    }

    private void Attach(uint window)
    {
        var session = Sender;
        if (session is null || session.IsNobody() || Equals(session, Context.System.DeadLetters))
        {
            _log.Warning("Mailbox {Mailbox}: attach without a session to deliver to, ignored", _recipient.Short);
            return;
        }
        // The newest session wins: the device reconnected, its old stream is going or gone.
        if (_session is not null && !Equals(_session, session)) Context.Unwatch(_session);
        _session = session;
        Context.Watch(session);
        foreach (var envelope in _state.Deliverable(window == 0 ? long.MaxValue : window)) session.Tell(envelope, Self);
        ArmIdle();
    }

    private void Forget()
    {
        if (_session is not null) Context.Unwatch(_session);
        _session = null;
        ArmIdle();
    }

    private bool IsMine(ByteString recipient, string what)
    {
        if (recipient.Equals(_recipientWire)) return true;
        _log.Warning("Mailbox {Mailbox}: {Request} for another device ignored", _recipient.Short, what);
        return false;
    }

    private bool IsIdle => _state.IsEmpty && _session is null;

    /// <summary>An empty mailbox nobody listens to asks its shard to stop it after the idle period; anything else cancels that.</summary>
    private void ArmIdle()
    {
        if (IsIdle && _settings.PassivateAfter is { } after) Timers.StartSingleTimer(IdleTimer, IdleDue.Instance, after);
        else Timers.Cancel(IdleTimer);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The journal refused the event (it stays alive): the sender must hear it was not stored.
        _log.Warning("Mailbox {Mailbox}: write {SequenceNr} rejected: {Reason}", _recipient.Short, sequenceNr, cause.Message);
        if (@event is EnvelopeStored && _storing is { } storing)
        {
            storing.ReplyTo.Tell(Reply(storing.MessageId, "the relay could not store the envelope; retry"));
        }
        _storing = null;
    }

    private static MailboxReply Reply(ByteString messageId, string? error = null) =>
        new() { MessageId = messageId, Accepted = error is null, Error = error ?? "" };

    private static Envelope ToEnvelope(EnvelopeStored stored) =>
        new() { MessageId = stored.MessageId, Sender = stored.Sender, Payload = stored.Payload };

    /// <summary>The expiry timer's message; the time is read from the injected clock when it arrives.</summary>
    private sealed class ExpiryDue
    {
        public static readonly ExpiryDue Instance = new();
        private ExpiryDue() { }
    }

    private sealed class IdleDue
    {
        public static readonly IdleDue Instance = new();
        private IdleDue() { }
    }
}

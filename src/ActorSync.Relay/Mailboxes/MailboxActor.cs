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
/// Stores are written in batches, one batch in flight at a time: the stores that arrive while a
/// batch is being written queue undecided, and when it is settled they are decided together
/// (<see cref="MailboxState.Decide(IReadOnlyList{MailboxStore}, DateTimeOffset)"/>) and written as
/// one atomic PersistAllAsync. So each decision sees every earlier write (no decision is made on a
/// state that might not become durable, besides the earlier stores of its own batch, which
/// succeeds or fails as a whole), and every answer waits for its batch's outcome (StoreBatch).
/// One write per envelope capped the relay at one journal round trip per envelope per mailbox.
/// Removals use Persist: commands wait meanwhile, as they decide on what is held.
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

    /// <summary>Most stores decided and written as one batch (one atomic journal write).</summary>
    internal const int MaxBatch = 1000;

    /// <summary>Stores that arrived while a batch was being written, undecided, in arrival order.</summary>
    private readonly List<(IActorRef ReplyTo, MailboxStore Store)> _queued = [];

    /// <summary>The batch being written (at most one), whose stores wait for its outcome.</summary>
    private StoreBatch? _writing;

    /// <summary>Asked to stop while stores were queued or being written: stop once they are answered.</summary>
    private bool _stopping;

    /// <summary>
    /// Removals being written: a stop waits for them too. (Akka hands a removal queued behind a
    /// batch to the journal before the batch's handlers run, so stopping in the last of those would
    /// not lose it today; waiting for its own handler does not rely on that ordering.)
    /// </summary>
    private int _removing;

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
                Queue(store);
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
                // A batch in flight is answered first (Persist used to hold this message back until then).
                _stopping = true;
                StopIfDone();
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

    private void Queue(MailboxStore store)
    {
        if (!store.Recipient.Equals(_recipientWire))
        {
            Sender.Tell(StoreBatch.Reply(store.MessageId, "this mailbox belongs to another device"));
            return;
        }
        _queued.Add((Sender, store));
        if (_writing is null) WriteQueued();
    }

    /// <summary>Decides the queued stores (up to <see cref="MaxBatch"/>) on the durable state and writes them as one batch.</summary>
    private void WriteQueued()
    {
        while (_writing is null && _queued.Count > 0)
        {
            var take = Math.Min(_queued.Count, MaxBatch);
            var stores = _queued.GetRange(0, take);
            _queued.RemoveRange(0, take);
            var decisions = _state.Decide(stores.ConvertAll(s => s.Store), _clock.GetUtcNow());
            foreach (var decision in decisions)
            {
                if (decision is MailboxDecision.Refused refused) _log.Info("Mailbox {Mailbox} refused an envelope: {Reason}", _recipient.Short, refused.Error);
            }
            var batch = new StoreBatch(stores, decisions);
            if (batch.Events.Count == 0)
            {
                batch.Answer(Durable, Self);
                continue;
            }
            _writing = batch;
            PersistAllAsync(batch.Events, stored =>
            {
                _state.Apply(stored);
                _session?.Tell(ToEnvelope(stored), Self);
                if (batch.Settle(written: true)) Settled(batch);
            });
        }
        StopIfDone();
    }

    private void Settled(StoreBatch batch)
    {
        batch.Answer(Durable, Self);
        _writing = null;
        ArmIdle();
        WriteQueued();
    }

    private bool Durable(EnvelopeId id) => _state.Holds(id) || _state.Remembers(id);

    private void StopIfDone()
    {
        if (_stopping && _writing is null && _queued.Count == 0 && _removing == 0) Context.Stop(Self);
    }

    private void Remove(EnvelopesRemoved? removed)
    {
        if (removed is null) return;
        _removing++;
        Persist(removed, done =>
        {
            _removing--;
            _state.Apply(done);
            if (done.Expired) _log.Info("Mailbox {Mailbox}: {Count} envelopes expired undelivered", _recipient.Short, done.MessageIds.Count);
            ArmIdle();
            StopIfDone();
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

    private bool IsIdle => _state.IsEmpty && _session is null && _writing is null && _queued.Count == 0;

    /// <summary>An empty mailbox nobody listens to asks its shard to stop it after the idle period; anything else cancels that.</summary>
    private void ArmIdle()
    {
        if (IsIdle && _settings.PassivateAfter is { } after) Timers.StartSingleTimer(IdleTimer, IdleDue.Instance, after);
        else Timers.Cancel(IdleTimer);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // The journal refused the write (it stays alive, and so does the mailbox): a batch is one
        // atomic write, so each of its events is rejected; once all are, its stores hear they were
        // not stored and the queued ones go next.
        _log.Warning("Mailbox {Mailbox}: write {SequenceNr} rejected: {Reason}", _recipient.Short, sequenceNr, cause.Message);
        if (@event is EnvelopeStored && _writing is { } batch && batch.Settle(written: false)) Settled(batch);
        if (@event is EnvelopesRemoved)
        {
            // Not recorded: the envelopes stay, to be delivered (or expired) again.
            _removing--;
            StopIfDone();
        }
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        // The journal failed the write (the outcome is unknown to us) and Akka stops this mailbox
        // next; it recovers from the journal on the next message. Every store waiting here hears
        // "not stored, retry": a retry of one that did reach the journal is answered as a duplicate.
        _log.Warning("Mailbox {Mailbox}: write {SequenceNr} failed, stopping: {Reason}", _recipient.Short, sequenceNr, cause.Message);
        _writing?.Fail(StoreBatch.WriteFailed, Self);
        _writing = null;
        foreach (var (replyTo, store) in _queued) replyTo.Tell(StoreBatch.Reply(store.MessageId, StoreBatch.WriteFailed), Self);
        _queued.Clear();
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

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

using Akka.Actor;
using ActorSync.Protocol.Relay;
using Google.Protobuf;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// The stores a <see cref="MailboxActor"/> decided together and writes as one atomic journal write,
/// with who waits for each answer. Every answer waits for the write's outcome, the refusals and
/// duplicates too: a duplicate may be of an envelope earlier in this same batch, and a quota
/// refusal counted it, so none of them is told anything before the batch is durable (or failed).
/// Owned by one actor; not thread-safe.
/// </summary>
internal sealed class StoreBatch
{
    public const string WriteFailed = "the relay could not store the envelope; retry";

    private readonly List<Entry> _entries;
    private int _outstanding;
    private bool _failed;

    public StoreBatch(IReadOnlyList<(IActorRef ReplyTo, MailboxStore Store)> stores, IReadOnlyList<MailboxDecision> decisions)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(decisions.Count, stores.Count);
        _entries = new List<Entry>(stores.Count);
        var events = new List<EnvelopeStored>();
        for (var i = 0; i < stores.Count; i++)
        {
            _entries.Add(new Entry(stores[i].ReplyTo, stores[i].Store.MessageId, decisions[i]));
            if (decisions[i] is MailboxDecision.Store store) events.Add(store.Event);
        }
        Events = events;
        _outstanding = events.Count;
    }

    private sealed record Entry(IActorRef ReplyTo, ByteString MessageId, MailboxDecision Decision);

    /// <summary>The events to write, in the order their stores arrived.</summary>
    public IReadOnlyList<EnvelopeStored> Events { get; }

    /// <summary>Stores in the batch (answers owed).</summary>
    public int Count => _entries.Count;

    /// <summary>One event's outcome came back; true once every event's has (the batch is settled).</summary>
    public bool Settle(bool written)
    {
        if (!written) _failed = true;
        return --_outstanding <= 0;
    }

    /// <summary>
    /// Answers every store once the batch is settled. Written: stores and duplicates are accepted,
    /// refusals go back as they are. Failed: nothing of the batch is in the journal, so its stores
    /// are refused with <see cref="WriteFailed"/>, and so are duplicates unless
    /// <paramref name="durable"/> says their id is held (or remembered) from an earlier write.
    /// </summary>
    public void Answer(Func<EnvelopeId, bool> durable, IActorRef self)
    {
        foreach (var entry in _entries)
        {
            var error = entry.Decision switch
            {
                MailboxDecision.Refused refused => refused.Error,
                MailboxDecision.Duplicate duplicate when _failed && !durable(duplicate.Id) => WriteFailed,
                MailboxDecision.Store when _failed => WriteFailed,
                _ => null,
            };
            entry.ReplyTo.Tell(Reply(entry.MessageId, error), self);
        }
    }

    /// <summary>Answers every store with <paramref name="error"/> (the mailbox stops after a failed write).</summary>
    public void Fail(string error, IActorRef self)
    {
        foreach (var entry in _entries) entry.ReplyTo.Tell(Reply(entry.MessageId, entry.Decision is MailboxDecision.Refused r ? r.Error : error), self);
    }

    public static MailboxReply Reply(ByteString messageId, string? error = null) =>
        new() { MessageId = messageId, Accepted = error is null, Error = error ?? "" };
}

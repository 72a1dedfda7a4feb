using ActorSync.Protocol.Relay;
using Google.Protobuf;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// The envelopes a relay holds for one recipient device, in the order it accepted them: the pure
/// core of a <see cref="MailboxActor"/> (no Akka, no clock, no I/O). <see cref="Decide"/> turns a
/// store request into an event or an answer; <see cref="Apply(EnvelopeStored)"/> and
/// <see cref="Apply(EnvelopesRemoved)"/> are the only mutations, used alike for new events and for
/// replay, so recovery rebuilds exactly the same state (held envelopes, byte count and the bounded
/// memory of removed ids).
/// Owned by one actor and not thread-safe; payloads are opaque sealed bytes, never read.
/// </summary>
public sealed class MailboxState
{
    private readonly HeldEnvelopes _held = new();
    private readonly Queue<EnvelopeId> _removedOrder = new();
    private readonly HashSet<EnvelopeId> _removed = [];

    public MailboxState(int maxEnvelopes, long maxBytes, int rememberRemoved)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEnvelopes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rememberRemoved);
        MaxEnvelopes = maxEnvelopes;
        MaxBytes = maxBytes;
        RememberRemoved = rememberRemoved;
    }

    public MailboxState(MailboxSettings settings)
        : this(settings?.MaxEnvelopes ?? throw new ArgumentNullException(nameof(settings)), settings.MaxBytes, settings.RememberRemoved) { }

    public int MaxEnvelopes { get; }
    public long MaxBytes { get; }
    public int RememberRemoved { get; }

    /// <summary>Envelopes held.</summary>
    public int Count => _held.Count;

    /// <summary>Payload bytes held (what the byte quota counts).</summary>
    public long Bytes { get; private set; }

    public bool IsEmpty => _held.Count == 0;

    /// <summary>The held envelopes in acceptance order, as their events (built on demand: the state keeps a leaner form).</summary>
    public IEnumerable<EnvelopeStored> Held => _held.InOrder().Select(s => new EnvelopeStored
    {
        MessageId = s.Id.ToWire(), Sender = s.Sender, Payload = UnsafeByteOperations.UnsafeWrap(s.Payload), AcceptedAtMs = s.AcceptedAtMs,
    });

    /// <summary>The held envelopes in acceptance order as a device receives them, at most <paramref name="max"/>.</summary>
    public IEnumerable<Envelope> Deliverable(long max) => _held.InOrder().Take((int)Math.Min(max, int.MaxValue)).Select(s => new Envelope
    {
        MessageId = s.Id.ToWire(), Sender = s.Sender, Payload = UnsafeByteOperations.UnsafeWrap(s.Payload),
    });

    /// <summary>How many removed ids are remembered (at most <see cref="RememberRemoved"/>).</summary>
    public int RememberedCount => _removed.Count;

    public bool Holds(EnvelopeId id) => _held.Contains(id);

    /// <summary>Held envelopes sent by <paramref name="sender"/> (a scan: asked for rarely, by `ws show`).</summary>
    public int CountFrom(Google.Protobuf.ByteString sender)
    {
        var count = 0;
        foreach (var held in _held.InOrder())
            if (held.Sender!.Equals(sender)) count++;
        return count;
    }

    /// <summary>True for an id removed recently enough to be remembered: storing it again is a duplicate.</summary>
    public bool Remembers(EnvelopeId id) => _removed.Contains(id);

    /// <summary>
    /// Decides a store request at <paramref name="now"/> (the relay's clock, recorded in the event
    /// for expiry). A duplicate wins over the quota: a sender retrying an envelope already held (or
    /// just delivered) must hear "accepted" even when the mailbox is full.
    /// </summary>
    public MailboxDecision Decide(MailboxStore store, DateTimeOffset now) => Decide([store], now)[0];

    /// <summary>
    /// Decides stores that will be written together (one atomic write), in order: each is decided as
    /// if the ones before it that are to be stored were already held, so a repeated id in the batch
    /// is a duplicate of its first occurrence and the quota counts every earlier store of the batch.
    /// Nothing changes until <see cref="Apply(EnvelopeStored)"/>: a batch that fails to be written
    /// leaves the state as it was.
    /// </summary>
    public IReadOnlyList<MailboxDecision> Decide(IReadOnlyList<MailboxStore> stores, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stores);
        var decisions = new MailboxDecision[stores.Count];
        HashSet<EnvelopeId>? batch = null;
        var count = _held.Count;
        var bytes = Bytes;
        for (var i = 0; i < stores.Count; i++)
        {
            var decision = Decide(stores[i], now, batch, count, bytes);
            if (decision is MailboxDecision.Store stored)
            {
                (batch ??= []).Add(EnvelopeId.From(stored.Event.MessageId));
                count++;
                bytes += stored.Event.Payload.Length;
            }
            decisions[i] = decision;
        }
        return decisions;
    }

    private MailboxDecision Decide(MailboxStore store, DateTimeOffset now, HashSet<EnvelopeId>? batch, int count, long bytes)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!EnvelopeId.TryFrom(store.MessageId, out var id)) return new MailboxDecision.Refused($"malformed envelope: a message id is {EnvelopeId.Size} bytes");
        if (store.Sender is null || store.Sender.Length != ActorSync.Core.Identity.Fingerprint.Size)
            return new MailboxDecision.Refused($"malformed envelope: a sender device id is {ActorSync.Core.Identity.Fingerprint.Size} bytes");
        if (_held.Contains(id) || _removed.Contains(id) || batch?.Contains(id) == true) return new MailboxDecision.Duplicate(id);
        var size = store.Payload?.Length ?? 0;
        if (size > MaxBytes)
            return new MailboxDecision.Refused($"quota: an envelope of {size} bytes is larger than the recipient's mailbox quota of {MaxBytes} bytes");
        if (count >= MaxEnvelopes)
            return new MailboxDecision.Refused($"quota: the recipient's mailbox is full ({count} of {MaxEnvelopes} envelopes held); retry later");
        if (bytes + size > MaxBytes)
            return new MailboxDecision.Refused(
                $"quota: the recipient's mailbox is full ({bytes} of {MaxBytes} bytes held, {size} more do not fit); retry later");
        return new MailboxDecision.Store(new EnvelopeStored
        {
            MessageId = store.MessageId,
            Sender = store.Sender,
            Payload = store.Payload ?? ByteString.Empty,
            AcceptedAtMs = now.ToUnixTimeMilliseconds(),
        });
    }

    /// <summary>The removal event for those of <paramref name="ids"/> that are held (each once), or null if none is.</summary>
    public EnvelopesRemoved? Delivered(IEnumerable<ByteString> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var seen = new HashSet<EnvelopeId>();
        var removed = new EnvelopesRemoved();
        foreach (var bytes in ids)
        {
            if (EnvelopeId.TryFrom(bytes, out var id) && _held.Contains(id) && seen.Add(id)) removed.MessageIds.Add(bytes);
        }
        return removed.MessageIds.Count == 0 ? null : removed;
    }

    /// <summary>The held envelopes accepted longer than <paramref name="dormancy"/> before <paramref name="now"/>, in acceptance order.</summary>
    public IReadOnlyList<EnvelopeId> Expired(DateTimeOffset now, TimeSpan dormancy)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var dormancyMs = (long)dormancy.TotalMilliseconds;
        var expired = new List<EnvelopeId>();
        // Every entry, not a prefix: acceptance times follow the wall clock, which may step back.
        foreach (var e in _held.InOrder())
        {
            if (nowMs - e.AcceptedAtMs > dormancyMs) expired.Add(e.Id);
        }
        return expired;
    }

    /// <summary>The removal event (expired = true) for <see cref="Expired"/>, or null when nothing expired.</summary>
    public EnvelopesRemoved? Expire(DateTimeOffset now, TimeSpan dormancy)
    {
        var expired = Expired(now, dormancy);
        if (expired.Count == 0) return null;
        var removed = new EnvelopesRemoved { Expired = true };
        removed.MessageIds.AddRange(expired.Select(id => id.ToWire()));
        return removed;
    }

    /// <summary>Holds the envelope (idempotent: an id already held is left as it is).</summary>
    public void Apply(EnvelopeStored stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var id = EnvelopeId.From(stored.MessageId);
        if (_held.Contains(id)) return;
        _held.Add(id, stored.Sender, stored.Payload, stored.AcceptedAtMs);
        Bytes += stored.Payload.Length;
    }

    /// <summary>Removes the held ones among the ids and remembers them (ids not held are ignored).</summary>
    public void Apply(EnvelopesRemoved removed)
    {
        ArgumentNullException.ThrowIfNull(removed);
        foreach (var bytes in removed.MessageIds)
        {
            if (!EnvelopeId.TryFrom(bytes, out var id)) continue;
            var length = _held.Remove(id);
            if (length < 0) continue;
            Bytes -= length;
            Remember(id);
        }
    }

    private void Remember(EnvelopeId id)
    {
        if (RememberRemoved == 0 || !_removed.Add(id)) return;
        _removedOrder.Enqueue(id);
        while (_removedOrder.Count > RememberRemoved) _removed.Remove(_removedOrder.Dequeue());
    }
}

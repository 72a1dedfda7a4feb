using Google.Protobuf;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// The envelopes of one mailbox in acceptance order, laid out for a relay that holds millions:
/// one array slot per envelope (id, sender, payload bytes, acceptance time) and an id index, instead
/// of a protobuf event, a linked-list node and three <see cref="ByteString"/>s each (measured with
/// dotnet-gcdump: ~650 bytes per 256-byte envelope, 1,000,000 of them in 648 MB of live heap).
/// Senders are shared per mailbox: every envelope arrives with its own copy of the sender's id,
/// though a mailbox hears from a handful of devices. Removal leaves a hole that the next sweep
/// (once holes outnumber envelopes) closes, so deletes stay O(1) amortised and order is kept.
/// Not thread-safe: owned by <see cref="MailboxState"/>.
/// </summary>
internal sealed class HeldEnvelopes
{
    /// <summary>One held envelope; a null <see cref="Sender"/> marks a removed slot.</summary>
    internal readonly record struct Slot(EnvelopeId Id, ByteString? Sender, ReadOnlyMemory<byte> Payload, long AcceptedAtMs);

    private Slot[] _slots = [];
    private int _head;
    private int _tail;
    private readonly Dictionary<EnvelopeId, int> _index = [];
    private readonly Dictionary<ByteString, ByteString> _senders = [];

    public int Count => _index.Count;

    public bool Contains(EnvelopeId id) => _index.ContainsKey(id);

    /// <summary>Appends (the caller checked the id is not held).</summary>
    public void Add(EnvelopeId id, ByteString sender, ByteString payload, long acceptedAtMs)
    {
        if (!_senders.TryGetValue(sender, out var shared)) _senders[sender] = shared = sender;
        if (_tail == _slots.Length) MakeRoom();
        _slots[_tail] = new Slot(id, shared, payload.Memory, acceptedAtMs);
        _index[id] = _tail++;
    }

    /// <summary>Takes the envelope out; returns its payload length, or -1 if it is not held.</summary>
    public int Remove(EnvelopeId id)
    {
        if (!_index.Remove(id, out var at)) return -1;
        var length = _slots[at].Payload.Length;
        _slots[at] = default;
        while (_head < _tail && _slots[_head].Sender is null) _head++;
        if (_index.Count == 0)
        {
            // Nothing held: start afresh so the slots and the senders of a drained mailbox are freed.
            _slots = [];
            _head = _tail = 0;
            _senders.Clear();
        }
        return length;
    }

    /// <summary>The held envelopes in acceptance order (valid until the next change).</summary>
    public IEnumerable<Slot> InOrder()
    {
        for (var i = _head; i < _tail; i++)
        {
            if (_slots[i].Sender is not null) yield return _slots[i];
        }
    }

    /// <summary>Closes the holes if they are at least half the slots; otherwise grows the array.</summary>
    private void MakeRoom()
    {
        var live = _index.Count;
        if (live <= _slots.Length / 2 && _slots.Length > 0)
        {
            Compact(_slots);
            return;
        }
        var grown = new Slot[Math.Max(8, _slots.Length * 2)];
        Compact(grown);
        _slots = grown;
    }

    private void Compact(Slot[] into)
    {
        var to = 0;
        for (var i = _head; i < _tail; i++)
        {
            var slot = _slots[i];
            if (slot.Sender is null) continue;
            into[to] = slot;
            _index[slot.Id] = to++;
        }
        Array.Clear(into, to, into.Length - to);
        _head = 0;
        _tail = to;
    }
}

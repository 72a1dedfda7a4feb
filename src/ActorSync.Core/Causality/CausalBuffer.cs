namespace ActorSync.Core.Causality;

/// <summary>
/// Holds deltas whose dependencies have not been applied yet and releases each one once the last
/// of them is. Bounded: when full it refuses new deltas (they come back through anti-entropy),
/// so a flood of orphans cannot exhaust memory.
/// </summary>
public sealed class CausalBuffer<T>
{
    private readonly int _capacity;
    private readonly Dictionary<DeltaId, (T Item, int Missing)> _pending = [];
    private readonly Dictionary<DeltaId, List<DeltaId>> _waiters = [];

    public CausalBuffer(int capacity) => _capacity = capacity;

    public int Count => _pending.Count;
    public bool Contains(DeltaId id) => _pending.ContainsKey(id);

    public bool TryGet(DeltaId id, out T item)
    {
        var found = _pending.TryGetValue(id, out var entry);
        item = entry.Item;
        return found;
    }

    /// <summary>The dependencies some buffered delta waits for: what to ask other members for.</summary>
    public IEnumerable<DeltaId> Wanted => _waiters.Keys;

    /// <summary>Parks a delta until every id in <paramref name="missing"/> is released; false when full or already held.</summary>
    public bool Add(DeltaId id, T item, IReadOnlyCollection<DeltaId> missing)
    {
        if (missing.Count == 0) throw new ArgumentException("nothing missing: apply it instead", nameof(missing));
        if (_pending.Count >= _capacity || _pending.ContainsKey(id)) return false;
        _pending[id] = (item, missing.Count);
        foreach (var dep in missing)
        {
            if (!_waiters.TryGetValue(dep, out var list)) _waiters[dep] = list = [];
            list.Add(id);
        }
        return true;
    }

    /// <summary>Marks <paramref name="done"/> as applied (or finally rejected) and returns what that made ready.</summary>
    public List<(DeltaId Id, T Item)> Release(DeltaId done)
    {
        var ready = new List<(DeltaId, T)>();
        if (!_waiters.Remove(done, out var waiting)) return ready;
        foreach (var id in waiting)
        {
            if (!_pending.TryGetValue(id, out var entry)) continue;
            if (entry.Missing <= 1)
            {
                _pending.Remove(id);
                ready.Add((id, entry.Item));
            }
            else
            {
                _pending[id] = (entry.Item, entry.Missing - 1);
            }
        }
        return ready;
    }
}

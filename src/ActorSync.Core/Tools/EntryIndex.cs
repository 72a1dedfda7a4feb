using System.Diagnostics.CodeAnalysis;
using ActorSync.Core.Causality;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Tools;

/// <summary>
/// The entries of an entry tool, found by the id of the delta that created them and iterated in id
/// order (author device, then sequence), which images and the state hash rely on. A red-black tree
/// over 100,000 entry ids (SortedDictionary) spent a quarter of a snapshot's image read comparing
/// ids; here a hash table finds them, and each author device keeps its entries in a list: a
/// device's deltas are applied in its sequence order, so a new entry is appended.
/// </summary>
internal sealed class EntryIndex
{
    private readonly Dictionary<DeltaId, Entry> _byId;
    private readonly SortedDictionary<DeviceId, List<Entry>> _byDevice = [];

    /// <param name="capacity">Entries expected (an image says how many it holds): the table is not grown and copied on the way.</param>
    public EntryIndex(int capacity = 0) => _byId = new Dictionary<DeltaId, Entry>(capacity);

    public int Count => _byId.Count;

    public bool TryGetValue(DeltaId id, [MaybeNullWhen(false)] out Entry entry) => _byId.TryGetValue(id, out entry);

    public bool Contains(DeltaId id) => _byId.ContainsKey(id);

    /// <summary>Adds the entry, or replaces the one with its id.</summary>
    public void Set(Entry entry)
    {
        var id = entry.Id;
        if (!_byDevice.TryGetValue(id.Device, out var list)) _byDevice[id.Device] = list = [];
        if (!_byId.TryAdd(id, entry))
        {
            _byId[id] = entry;
            list[Find(list, id.Seq)] = entry;
        }
        else if (list.Count == 0 || list[^1].Id.Seq < id.Seq) list.Add(entry);
        else list.Insert(~Find(list, id.Seq), entry);
    }

    /// <summary>Every entry in id order.</summary>
    public IEnumerable<Entry> Values
    {
        get
        {
            foreach (var list in _byDevice.Values)
                foreach (var entry in list)
                    yield return entry;
        }
    }

    /// <summary>The index of the entry with sequence <paramref name="seq"/>, or the complement of where it would go.</summary>
    private static int Find(List<Entry> list, ulong seq)
    {
        var (low, high) = (0, list.Count - 1);
        while (low <= high)
        {
            var mid = low + ((high - low) >> 1);
            var at = list[mid].Id.Seq;
            if (at == seq) return mid;
            if (at < seq) low = mid + 1;
            else high = mid - 1;
        }
        return ~low;
    }
}

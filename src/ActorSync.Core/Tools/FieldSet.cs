using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace ActorSync.Core.Tools;

/// <summary>
/// The fields of one entry in ordinal name order: a handful each (an entry tool's schema names a
/// few), so a sorted array instead of a tree per entry (SortedDictionary: four objects and a node
/// per field, most of an entry's memory and of the allocations of a snapshot's image read).
/// </summary>
internal sealed class FieldSet : IEnumerable<KeyValuePair<string, FieldValue>>
{
    private KeyValuePair<string, FieldValue>[] _items;
    private int _count;

    /// <param name="capacity">Fields expected: a chat message has one, and its entry then one array of one.</param>
    public FieldSet(int capacity = 0) => _items = capacity == 0 ? [] : new KeyValuePair<string, FieldValue>[capacity];

    public int Count => _count;

    public IEnumerable<FieldValue> Values => this.Select(f => f.Value);

    public bool TryGetValue(string name, [MaybeNullWhen(false)] out FieldValue value)
    {
        var i = IndexOf(name);
        value = i >= 0 ? _items[i].Value : default;
        return i >= 0;
    }

    public FieldValue this[string name]
    {
        set
        {
            var i = IndexOf(name);
            if (i >= 0)
            {
                _items[i] = KeyValuePair.Create(name, value);
                return;
            }
            i = ~i;
            if (_count == _items.Length) Array.Resize(ref _items, Math.Max(2, _count * 2));
            Array.Copy(_items, i, _items, i + 1, _count - i);
            _items[i] = KeyValuePair.Create(name, value);
            _count++;
        }
    }

    private int IndexOf(string name)
    {
        var (low, high) = (0, _count - 1);
        while (low <= high)
        {
            var mid = low + ((high - low) >> 1);
            var c = string.CompareOrdinal(_items[mid].Key, name);
            if (c == 0) return mid;
            if (c < 0) low = mid + 1;
            else high = mid - 1;
        }
        return ~low;
    }

    public IEnumerator<KeyValuePair<string, FieldValue>> GetEnumerator()
    {
        for (var i = 0; i < _count; i++) yield return _items[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Causality;

/// <summary>
/// Immutable map device -> highest contiguous sequence number. Because each delta depends on its
/// author's previous one, a version vector names a causally closed set of deltas exactly: it is
/// both "what a replica has" and "the causal past of a delta".
/// </summary>
public sealed class VersionVector : IEquatable<VersionVector>
{
    public const int MaxEntries = 4096;
    public static readonly VersionVector Empty = new([]);

    private readonly (DeviceId Device, ulong Seq)[] _entries; // sorted by device, no zero seqs

    private VersionVector((DeviceId, ulong)[] sorted) => _entries = sorted;

    public int Count => _entries.Length;
    public IEnumerable<(DeviceId Device, ulong Seq)> Entries => _entries;

    public static VersionVector From(IEnumerable<KeyValuePair<DeviceId, ulong>> entries) =>
        new(entries.Where(e => e.Value > 0).Select(e => (e.Key, e.Value)).OrderBy(e => e.Key).ToArray());

    public ulong this[DeviceId device]
    {
        get
        {
            var lo = 0;
            var hi = _entries.Length - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >> 1;
                var c = _entries[mid].Device.CompareTo(device);
                if (c == 0) return _entries[mid].Seq;
                if (c < 0) lo = mid + 1; else hi = mid - 1;
            }
            return 0;
        }
    }

    public bool Contains(DeltaId id) => this[id.Device] >= id.Seq;

    /// <summary>Pointwise maximum.</summary>
    public VersionVector Merge(VersionVector other)
    {
        if (other._entries.Length == 0) return this;
        if (_entries.Length == 0) return other;
        var merged = new List<(DeviceId, ulong)>(Math.Max(_entries.Length, other._entries.Length));
        int i = 0, j = 0;
        var changed = false;
        while (i < _entries.Length || j < other._entries.Length)
        {
            if (j >= other._entries.Length) { merged.Add(_entries[i++]); continue; }
            if (i >= _entries.Length) { merged.Add(other._entries[j++]); changed = true; continue; }
            var c = _entries[i].Device.CompareTo(other._entries[j].Device);
            if (c < 0) merged.Add(_entries[i++]);
            else if (c > 0) { merged.Add(other._entries[j++]); changed = true; }
            else
            {
                var seq = Math.Max(_entries[i].Seq, other._entries[j].Seq);
                changed |= seq != _entries[i].Seq;
                merged.Add((_entries[i].Device, seq));
                i++; j++;
            }
        }
        return changed ? new VersionVector(merged.ToArray()) : this;
    }

    /// <summary>
    /// From sequence numbers by position in a table of devices sorted by id (zeros left out): for
    /// reading many vectors over one device table (an image's closures) without sorting each.
    /// </summary>
    internal static VersionVector FromTable(IReadOnlyList<DeviceId> sortedDevices, ReadOnlySpan<ulong> seqs)
    {
        var count = 0;
        foreach (var seq in seqs) if (seq > 0) count++;
        var entries = new (DeviceId, ulong)[count];
        var at = 0;
        for (var i = 0; i < seqs.Length; i++)
            if (seqs[i] > 0) entries[at++] = (sortedDevices[i], seqs[i]);
        return new VersionVector(entries);
    }

    public VersionVector With(DeltaId id)
    {
        if (this[id.Device] >= id.Seq) return this;
        return Merge(new VersionVector([(id.Device, id.Seq)]));
    }

    /// <summary>True when every delta in <paramref name="other"/> is also in this one.</summary>
    public bool Dominates(VersionVector other) => other._entries.All(e => this[e.Device] >= e.Seq);

    public bool Equals(VersionVector? other) => other is not null && _entries.AsSpan().SequenceEqual(other._entries);
    public override bool Equals(object? obj) => Equals(obj as VersionVector);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var e in _entries) { h.Add(e.Device); h.Add(e.Seq); }
        return h.ToHashCode();
    }

    public void Write(WireWriter w)
    {
        w.VarUInt((ulong)_entries.Length);
        foreach (var (device, seq) in _entries) new DeltaId(device, seq).Write(w);
    }

    public static VersionVector Read(ref WireReader r)
    {
        var count = r.Count(MaxEntries, "version vector");
        var entries = new (DeviceId, ulong)[count];
        for (var i = 0; i < count; i++)
        {
            var id = DeltaId.Read(ref r);
            if (i > 0 && entries[i - 1].Item1.CompareTo(id.Device) >= 0)
                throw new WireFormatException("version vector: entries not strictly sorted");
            entries[i] = (id.Device, id.Seq);
        }
        return new VersionVector(entries);
    }

    public override string ToString() => "{" + string.Join(", ", _entries.Select(e => $"{e.Device.Short}:{e.Seq}")) + "}";
}

using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Tools;

public sealed partial class EntryTool
{
    internal void WriteImage(WireWriter w)
    {
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        w.VarUInt((ulong)_entries.Count);
        foreach (var entry in _entries.Values)
        {
            entry.Id.Write(w);
            entry.Creator.Value.WriteTo(raw);
            w.Raw(raw);
            w.UInt64Fixed(entry.Created.Packed);
            w.Bool(entry.Deleted);
            w.VarUInt((ulong)entry.Fields.Count);
            foreach (var (name, value) in entry.Fields)
            {
                w.String(name);
                w.String(value.Value);
                w.UInt64Fixed(value.Time.Packed);
                value.By.Write(w);
            }
        }
    }

    /// <summary>
    /// Reads what <see cref="WriteImage"/> wrote: entries in id order, fields in name order, each
    /// entry created by a delta the state holds (<paramref name="isApplied"/>). Anything else is
    /// refused: an image may come from another member, and entries out of order would cost the
    /// index an insertion in the middle each (quadratic), ids not of the state could be picked to
    /// collide in its hash table.
    /// </summary>
    internal static EntryTool ReadImage(ref WireReader r, Func<DeltaId, bool> isApplied)
    {
        var count = r.Count(ImageLimits.MaxItems, "entries");
        // Sized for the count, but never beyond what the bytes left could hold (51 each at least).
        var tool = new EntryTool(Math.Min(count, r.Remaining / 51));
        DeltaId? previous = null;
        for (var i = 0; i < count; i++)
        {
            var id = DeltaId.Read(ref r);
            if (previous is { } before && before.CompareTo(id) >= 0) throw new WireFormatException("entries: not in ascending id order");
            if (!isApplied(id)) throw new WireFormatException("entries: an entry not created by a delta of the state");
            previous = id;
            var creator = new AccountId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "entry creator")));
            var created = new HlcTimestamp(r.UInt64Fixed("entry time"));
            var deleted = r.Bool("entry deleted");
            var fields = r.Count(ImageLimits.MaxItems, "entry fields");
            // Room for the fields the count names, but no more than the bytes left could hold (31 each at least).
            var entry = new Entry(id, creator, created, Math.Min(fields, r.Remaining / 31)) { Deleted = deleted };
            string? previousName = null;
            for (var f = 0; f < fields; f++)
            {
                var name = r.String(ImageLimits.MaxText, "field name");
                if (previousName is not null && string.CompareOrdinal(previousName, name) >= 0) throw new WireFormatException("entry fields: not in ascending name order");
                previousName = name;
                var value = r.String(ImageLimits.MaxText, "field value");
                var time = new HlcTimestamp(r.UInt64Fixed("field time"));
                entry.Fields[name] = new FieldValue(value, time, DeltaId.Read(ref r));
            }
            tool._entries.Set(entry);
        }
        return tool;
    }
}

using ActorSync.Core.Encoding;

namespace ActorSync.Core.Operations;

/// <summary>
/// The named text fields of an entry (title, text, start, ...), sorted by name so that equal
/// field sets encode to equal bytes. Each tool's schema says which names it accepts.
/// </summary>
public sealed class EntryFields : IEquatable<EntryFields>
{
    public const int MaxFields = 16;
    public const int MaxNameBytes = 32;
    public const int MaxValueBytes = 256 * 1024;

    private readonly KeyValuePair<string, string>[] _fields;

    public EntryFields(IEnumerable<KeyValuePair<string, string>> fields)
    {
        _fields = fields.OrderBy(f => f.Key, StringComparer.Ordinal).ToArray();
        if (_fields.Length > MaxFields) throw new ArgumentException("too many fields", nameof(fields));
        for (var i = 1; i < _fields.Length; i++)
            if (_fields[i].Key == _fields[i - 1].Key) throw new ArgumentException("duplicate field " + _fields[i].Key, nameof(fields));
    }

    public static EntryFields Of(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));

    public IReadOnlyList<KeyValuePair<string, string>> All => _fields;
    public int Count => _fields.Length;

    public string? this[string name] => _fields.FirstOrDefault(f => f.Key == name).Value;

    public void Write(WireWriter w)
    {
        w.VarUInt((ulong)_fields.Length);
        foreach (var (k, v) in _fields)
        {
            w.String(k);
            w.String(v);
        }
    }

    public static EntryFields Read(ref WireReader r)
    {
        var count = r.Count(MaxFields, "entry fields");
        var list = new KeyValuePair<string, string>[count];
        for (var i = 0; i < count; i++)
        {
            var name = r.String(MaxNameBytes, "field name");
            if (i > 0 && string.CompareOrdinal(list[i - 1].Key, name) >= 0)
                throw new WireFormatException("entry fields: names not strictly sorted");
            list[i] = KeyValuePair.Create(name, r.String(MaxValueBytes, "field value"));
        }
        return new EntryFields(list);
    }

    public bool Equals(EntryFields? other) => other is not null && _fields.SequenceEqual(other._fields);
    public override bool Equals(object? obj) => Equals(obj as EntryFields);
    public override int GetHashCode() => _fields.Length == 0 ? 0 : HashCode.Combine(_fields.Length, _fields[0].Key, _fields[0].Value);
}

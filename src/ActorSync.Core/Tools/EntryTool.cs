using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Workspace;

namespace ActorSync.Core.Tools;

/// <summary>One field's value and the stamp that decides last-writer-wins: (time, delta id).</summary>
public readonly record struct FieldValue(string Value, HlcTimestamp Time, DeltaId By)
{
    public bool Beats(FieldValue other) => Time != other.Time ? Time > other.Time : By.CompareTo(other.By) > 0;
}

/// <summary>An entry of an entry tool; keyed by the id of the delta that created it.</summary>
public sealed class Entry
{
    /// <param name="fields">How many fields it will hold, as far as known (its creation's, an image's count).</param>
    internal Entry(DeltaId id, AccountId creator, HlcTimestamp created, int fields = 0)
    {
        Id = id;
        Creator = creator;
        Created = created;
        Fields = new FieldSet(fields);
    }

    public DeltaId Id { get; }
    public AccountId Creator { get; }
    public HlcTimestamp Created { get; }
    public bool Deleted { get; internal set; }
    internal FieldSet Fields { get; }

    public string? this[string field] => Fields.TryGetValue(field, out var v) ? v.Value : null;
    public IEnumerable<KeyValuePair<string, string>> Values => Fields.Select(f => KeyValuePair.Create(f.Key, f.Value.Value));
    public bool Edited => Fields.Values.Any(f => f.By != Id);
}

/// <summary>
/// Convergent state of one entry tool (discussion, calendar, notepad, sketchpad, pictures, chat):
/// creates are keyed by delta id, field edits resolve last-writer-wins, deletes are tombstones.
/// Every operation commutes with every concurrent one, so any causal order gives the same state.
/// </summary>
public sealed partial class EntryTool
{
    private readonly EntryIndex _entries;

    public EntryTool() : this(0) { }

    private EntryTool(int capacity) => _entries = new EntryIndex(capacity);

    public IEnumerable<Entry> All => _entries.Values;
    public Entry? Find(DeltaId id) => _entries.TryGetValue(id, out var entry) ? entry : null;

    /// <summary>Live entries in time order (chat's order: hybrid time, then author device).</summary>
    public IEnumerable<Entry> Live => _entries.Values.Where(e => !e.Deleted).OrderBy(e => e.Created).ThenBy(e => e.Id);

    public void Apply(DeltaMeta meta, DeltaOp op)
    {
        switch (op)
        {
            case CreateEntry c:
                if (_entries.Contains(meta.Id)) return;
                var entry = new Entry(meta.Id, meta.Author, meta.Time, c.Fields.Count);
                foreach (var (k, v) in c.Fields.All) entry.Fields[k] = new FieldValue(v, meta.Time, meta.Id);
                _entries.Set(entry);
                break;
            case EditEntry e when _entries.TryGetValue(e.Entry, out var target):
                foreach (var (k, v) in e.Fields.All)
                {
                    var candidate = new FieldValue(v, meta.Time, meta.Id);
                    if (!target.Fields.TryGetValue(k, out var current) || candidate.Beats(current)) target.Fields[k] = candidate;
                }
                break;
            case DeleteEntry d when _entries.TryGetValue(d.Entry, out var target):
                target.Deleted = true;
                break;
            default:
                throw new ArgumentException($"{op.Kind} does not apply to an entry tool, or its entry is missing", nameof(op));
        }
    }
}

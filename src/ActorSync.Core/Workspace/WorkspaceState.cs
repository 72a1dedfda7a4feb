using ActorSync.Core.Causality;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Tools;

namespace ActorSync.Core.Workspace;

/// <summary>
/// The replicated state of one workspace: a deterministic function of the set of applied deltas.
/// <see cref="Check"/> decides validity from a delta's causal past; <see cref="Apply"/> folds a
/// valid delta in. Pure: no clock, no I/O, no randomness (those live in the replica and actors).
/// </summary>
public sealed partial class WorkspaceState
{
    /// <summary>Every applied delta's closure (its causal past and itself) and time: one table, one lookup per delta.</summary>
    private readonly Dictionary<DeltaId, (VersionVector Closure, HlcTimestamp Time)> _closures = [];
    private readonly SortedDictionary<string, EntryTool> _entryTools = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, FileTool> _fileTools = new(StringComparer.Ordinal);
    private VersionVector _applied = VersionVector.Empty;

    public WorkspaceState(WorkspaceId id) => Id = id;

    public WorkspaceId Id { get; }
    public AdminHistory Admin { get; } = new();
    public AdminState Current => Admin.Current;

    /// <summary>Every applied delta, as a version vector: the state's causal frontier.</summary>
    public VersionVector Applied => _applied;
    public int AppliedCount { get; private set; }

    public bool IsApplied(DeltaId id) => _closures.ContainsKey(id);

    /// <summary>The causal past of a delta from its dependencies' closures; null while one is not applied yet.</summary>
    public VersionVector? PastOf(DeltaHeader h)
    {
        var past = VersionVector.Empty;
        foreach (var dep in h.AllDependencies)
        {
            if (!_closures.TryGetValue(dep, out var applied)) return null;
            past = past.Merge(applied.Closure);
        }
        return past;
    }

    /// <summary>The time of an applied delta's closure check: a delta must be later than everything it depends on.</summary>
    public HlcTimestamp TimeOf(DeltaId id) => _closures.TryGetValue(id, out var applied) ? applied.Time : default;

    /// <summary>Null when the delta is valid; <paramref name="adminAtPast"/> must be <c>Admin.At(past)</c> (passed in so it is folded once per delta).</summary>
    public string? Check(DeltaHeader h, VersionVector past, AdminState adminAtPast, DeltaOp op) => DeltaRules.Check(this, h, past, adminAtPast, op);

    public string? Check(DeltaHeader h, VersionVector past, DeltaOp op) => Check(h, past, Admin.At(past), op);

    public void Apply(DeltaHeader h, VersionVector past, AdminState adminAtPast, DeltaOp op)
    {
        var meta = new DeltaMeta(h.Id, h.Author, h.Time, h.Tool, past, h.Epoch, h.Keys);
        var admin = adminAtPast;
        switch (op)
        {
            case { IsAdministrative: true }:
                Admin.Add(new AdminEvent(meta, op));
                break;
            case CreateEntry or EditEntry or DeleteEntry:
                if (!_entryTools.TryGetValue(h.Tool.Value, out var entries)) _entryTools[h.Tool.Value] = entries = new EntryTool();
                entries.Apply(meta, op);
                break;
            case StoreChunk chunk:
                if (!_fileTools.TryGetValue(h.Tool.Value, out var store)) _fileTools[h.Tool.Value] = store = new FileTool();
                store.AddChunk(chunk.Hash, h.Id);
                break;
            case PutFile or DeleteFile:
                if (!_fileTools.TryGetValue(h.Tool.Value, out var files)) _fileTools[h.Tool.Value] = files = new FileTool();
                files.Apply(meta, op, admin.CardOf(h.Author)?.Name ?? h.Author.Short);
                break;
            default:
                throw new ArgumentException("unknown operation " + op.Kind, nameof(op));
        }
        _closures[h.Id] = (past.With(h.Id), h.Time);
        _applied = _applied.With(h.Id);
        AppliedCount++;
    }

    public EntryTool? EntriesOf(ToolId tool) => _entryTools.GetValueOrDefault(tool.Value);
    public FileTool? FilesOf(ToolId tool) => _fileTools.GetValueOrDefault(tool.Value);

    internal IEnumerable<KeyValuePair<string, EntryTool>> EntryTools => _entryTools;
    internal IEnumerable<KeyValuePair<string, FileTool>> FileTools => _fileTools;

    /// <summary>The tool of a kind that a user means when naming none: the one named after the kind.</summary>
    public ToolId? DefaultTool(ToolKind kind)
    {
        var tools = Current.Tools.Values.Where(t => t.Kind == kind).ToList();
        return tools.FirstOrDefault(t => t.Id.Value == kind.ToString().ToLowerInvariant())?.Id ?? tools.FirstOrDefault()?.Id;
    }

    /// <summary>A stable digest of the whole visible state: equal on replicas that applied the same deltas.</summary>
    public string StateHash() => StateHasher.Hash(this);
}

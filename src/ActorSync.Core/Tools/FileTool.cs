using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Workspace;

namespace ActorSync.Core.Tools;

/// <summary>One version of a file: a put or a delete at a path, with the causal past it was made in.</summary>
public sealed record FileVersion(
    DeltaId Id, AccountId Author, string AuthorName, HlcTimestamp Time, string Path, bool Deleted,
    long Size, byte[] ContentHash, IReadOnlyList<FileChunk> Chunks, int Version, VersionVector Past);

/// <summary>A file as a member sees it: the name it shows at, and the version behind it.</summary>
public sealed record FileView(string Name, FileVersion Version, bool IsConflictCopy);

/// <summary>
/// Convergent file metadata. The versions of a path that no other version of it has in its
/// causal past are its heads; one head is the file, and with concurrent changes the head with the
/// latest (time, id) keeps the name while each other one is shown as a conflict copy named after
/// its author. A delete that is concurrent with a change loses to it: nothing is lost.
/// </summary>
public sealed partial class FileTool
{
    private readonly SortedDictionary<string, List<FileVersion>> _versions = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, List<FileVersion>> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DeltaId> _chunks = new(StringComparer.Ordinal);

    /// <summary>Which delta holds a chunk's bytes (by SHA-256); the lowest delta id wins, so every replica picks the same one.</summary>
    public DeltaId? ChunkDelta(byte[] hash) => _chunks.TryGetValue(Convert.ToHexStringLower(hash), out var id) ? id : null;

    internal void AddChunk(byte[] hash, DeltaId id)
    {
        var key = Convert.ToHexStringLower(hash);
        if (!_chunks.TryGetValue(key, out var existing) || id.CompareTo(existing) < 0) _chunks[key] = id;
    }

    /// <summary>True when every chunk of the version is here.</summary>
    public bool HasContent(FileVersion v) => v.Chunks.All(c => ChunkDelta(c.Hash) is not null);

    public IEnumerable<string> Paths => _heads.Keys;

    public IReadOnlyList<FileVersion> HeadsOf(string path) => _heads.TryGetValue(path, out var h) ? h : [];

    /// <summary>The live heads of a path as they stood in a causal past: what a new change there builds on.</summary>
    public List<FileVersion> LiveHeadsAt(string path, VersionVector past)
    {
        if (!_versions.TryGetValue(path, out var all)) return [];
        var inPast = all.Where(v => past.Contains(v.Id)).ToList();
        return inPast.Where(v => !v.Deleted && !inPast.Any(o => o.Past.Contains(v.Id))).ToList();
    }

    public void Apply(DeltaMeta meta, DeltaOp op, string authorName)
    {
        var path = op switch
        {
            PutFile p => p.Path,
            DeleteFile d => d.Path,
            _ => throw new ArgumentException($"{op.Kind} does not apply to the files tool", nameof(op)),
        };
        if (!_versions.TryGetValue(path, out var all)) _versions[path] = all = [];
        if (all.Any(v => v.Id == meta.Id)) return;
        var version = 1 + all.Where(v => meta.Past.Contains(v.Id)).Select(v => v.Version).DefaultIfEmpty(0).Max();
        var fv = op is PutFile put
            ? new FileVersion(meta.Id, meta.Author, authorName, meta.Time, path, false, put.Size, put.ContentHash, put.Chunks, version, meta.Past)
            : new FileVersion(meta.Id, meta.Author, authorName, meta.Time, path, true, 0, [], [], version, meta.Past);
        all.Add(fv);
        if (!_heads.TryGetValue(path, out var heads)) _heads[path] = heads = [];
        // Applied in causal order, a new version is never in an older one's past: it is always a head.
        heads.RemoveAll(h => meta.Past.Contains(h.Id));
        heads.Add(fv);
        heads.Sort((a, b) => a.Id.CompareTo(b.Id));
    }

    /// <summary>What the folder shows: one file per path with live heads, plus a copy per losing concurrent change.</summary>
    public IEnumerable<FileView> View() => _heads.SelectMany(p => ViewOf(p.Key, p.Value));

    /// <summary>What the folder shows for one path (the file and its conflict copies), without going through the others.</summary>
    public IEnumerable<FileView> ViewOf(string path) => _heads.TryGetValue(path, out var heads) ? ViewOf(path, heads) : [];

    private static IEnumerable<FileView> ViewOf(string path, List<FileVersion> heads)
    {
        var live = heads.Where(h => !h.Deleted).OrderByDescending(h => h.Time).ThenByDescending(h => h.Id).ToList();
        if (live.Count == 0) yield break;
        yield return new FileView(path, live[0], false);
        foreach (var loser in live.Skip(1)) yield return new FileView(FilePaths.ConflictCopy(path, loser.AuthorName), loser, true);
    }
}

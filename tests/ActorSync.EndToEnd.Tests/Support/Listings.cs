using System.Text.Json;

namespace ActorSync.EndToEnd.Tests.Support;

/// <summary>One entry of a tool as `discussion list --json` / `chat log --json` print it.</summary>
public sealed record Entry(string Id, string Author, string AuthorName, IReadOnlyDictionary<string, string> Fields)
{
    public string Text => Field("text");
    public string Field(string name) => Fields.TryGetValue(name, out var v) ? v : "";
    public override string ToString() => $"{Id} {AuthorName}: {string.Join(", ", Fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}"))}";
}

/// <summary>One file as `files list --json` prints it.</summary>
public sealed record FileEntry(string Name, long Size, string Hash, bool ConflictCopy, bool ContentComplete);

/// <summary>The CLI's JSON listings, read into records the tests compare.</summary>
public static class Listings
{
    /// <summary>`TOOL VERB WS --json` ("discussion list", "chat log") as entries, in the order printed.</summary>
    public static async Task<IReadOnlyList<Entry>> EntriesAsync(PeerProcess peer, string ws, string tool, string verb)
    {
        var result = await peer.OkAsync(tool, verb, ws, "--json");
        return PeerCluster.JsonArray(result.Stdout).Select(e => new Entry(
            e.GetProperty("id").GetString()!,
            e.GetProperty("author").GetString()!,
            e.GetProperty("authorName").GetString()!,
            e.GetProperty("fields").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal))).ToList();
    }

    public static Task<IReadOnlyList<Entry>> DiscussionAsync(PeerProcess peer, string ws) => EntriesAsync(peer, ws, "discussion", "list");

    public static Task<IReadOnlyList<Entry>> ChatAsync(PeerProcess peer, string ws) => EntriesAsync(peer, ws, "chat", "log");

    public static async Task<IReadOnlyList<FileEntry>> FilesAsync(PeerProcess peer, string ws)
    {
        var result = await peer.OkAsync("files", "list", ws, "--json");
        return PeerCluster.JsonArray(result.Stdout).Select(e => new FileEntry(
            e.GetProperty("name").GetString()!,
            e.GetProperty("size").GetInt64(),
            e.GetProperty("hash").GetString()!,
            e.GetProperty("conflictCopy").GetBoolean(),
            e.GetProperty("contentComplete").GetBoolean())).ToList();
    }

    /// <summary>`files get WS NAME OUT` into a fresh file under the peer's home; its bytes, or null if the verb failed.</summary>
    public static async Task<byte[]?> DownloadAsync(PeerProcess peer, string ws, string name)
    {
        var output = Path.Combine(peer.Home, "downloads", Guid.NewGuid().ToString("N") + "-" + Path.GetFileName(name));
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        var result = await peer.RunAsync("files", "get", ws, name, output);
        if (result.ExitCode != 0 || !File.Exists(output)) return null;
        return await File.ReadAllBytesAsync(output);
    }

    /// <summary>A canonical text of a listing, for comparing replicas entry by entry.</summary>
    public static string Canonical(IEnumerable<Entry> entries) =>
        string.Join("\n", entries.OrderBy(e => e.Id, StringComparer.Ordinal).Select(e => e.ToString()));

    public static string Describe(IEnumerable<Entry> entries) => "[" + string.Join("; ", entries) + "]";

    public static JsonElement Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }
}

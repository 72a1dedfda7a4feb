using System.Globalization;
using ActorSync.Core.Causality;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;

namespace ActorSync.Core.Tools;

/// <summary>
/// Which fields each entry tool accepts and which a new entry must have. One schema table keeps
/// six tools on one convergent state machine (<see cref="EntryTool"/>) instead of six copies.
/// </summary>
public static class EntrySchema
{
    private sealed record Schema(string[] Required, string[] Optional);

    private static readonly Dictionary<ToolKind, Schema> Schemas = new()
    {
        [ToolKind.Discussion] = new(["text"], ["title", "replyTo"]),
        [ToolKind.Calendar] = new(["title", "start"], ["end", "notes", "location"]),
        [ToolKind.Notepad] = new(["title"], ["text"]),
        [ToolKind.Sketchpad] = new(["points"], ["color", "width"]),
        [ToolKind.Pictures] = new(["name", "contentHash"], ["size", "caption"]),
        [ToolKind.Chat] = new(["text"], []),
    };

    public static bool IsEntryTool(ToolKind kind) => Schemas.ContainsKey(kind);

    /// <summary>Null when the fields fit the tool; otherwise why not.</summary>
    public static string? Check(ToolKind kind, EntryFields fields, bool creating)
    {
        if (!Schemas.TryGetValue(kind, out var schema)) return $"{kind} is not an entry tool";
        if (fields.Count == 0) return "no fields";
        foreach (var (name, value) in fields.All)
        {
            if (!schema.Required.Contains(name) && !schema.Optional.Contains(name)) return $"field '{name}' is not part of {kind}";
            if (schema.Required.Contains(name) && string.IsNullOrWhiteSpace(value)) return $"field '{name}' may not be empty";
            if (ValueProblem(name, value) is { } problem) return problem;
        }
        if (creating)
            foreach (var name in schema.Required)
                if (fields[name] is null) return $"field '{name}' is required";
        return null;
    }

    private static string? ValueProblem(string name, string value) => name switch
    {
        "start" or "end" when !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
            => $"field '{name}' is not a date and time",
        "replyTo" when !DeltaId.TryParse(value, out _) => "field 'replyTo' is not an entry id",
        "width" or "size" when !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            => $"field '{name}' is not a whole number",
        "contentHash" when value.Length != 64 || !value.All(Uri.IsHexDigit) => "field 'contentHash' is not a SHA-256 hex digest",
        "points" when !PointsValid(value) => "field 'points' is not a list of x,y pairs",
        _ => null,
    };

    private static bool PointsValid(string value)
    {
        var pairs = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return pairs.Length > 0 && pairs.All(p =>
        {
            var xy = p.Split(',');
            return xy.Length == 2 && xy.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d));
        });
    }
}

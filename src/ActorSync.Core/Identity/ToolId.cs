namespace ActorSync.Core.Identity;

/// <summary>
/// A tool inside a workspace: 1 to 32 characters of a-z, 0-9 and '-', so it can name an actor
/// (tool-&lt;id&gt;) and a folder without escaping. "workspace" is reserved for membership deltas.
/// </summary>
public readonly record struct ToolId
{
    public const int MaxLength = 32;
    public static readonly ToolId Workspace = new("workspace");

    public string Value { get; }

    public ToolId(string value)
    {
        if (!IsValid(value)) throw new FormatException("a tool id is 1-32 characters of a-z, 0-9 and '-'");
        Value = value;
    }

    public static bool IsValid(string? value) =>
        value is { Length: > 0 and <= MaxLength } && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    public override string ToString() => Value;
}

namespace ActorSync.Core.Permissions;

/// <summary>A member's role in a workspace (Groove's three).</summary>
public enum Role : byte
{
    Guest = 1,
    Participant = 2,
    Manager = 3,
}

/// <summary>The kinds of tool a workspace can hold; <see cref="Workspace"/> stands for membership itself.</summary>
public enum ToolKind : byte
{
    Workspace = 0,
    Discussion = 1,
    Calendar = 2,
    Notepad = 3,
    Sketchpad = 4,
    Pictures = 5,
    Chat = 6,
    Files = 7,
}

/// <summary>What a role may do in one tool. "Own" means entries whose creating delta the member authored.</summary>
[Flags]
public enum Permission : uint
{
    None = 0,
    View = 1 << 0,
    Create = 1 << 1,
    EditOwn = 1 << 2,
    EditAny = 1 << 3,
    DeleteOwn = 1 << 4,
    DeleteAny = 1 << 5,
    Invite = 1 << 6,
    Uninvite = 1 << 7,
    AddTools = 1 << 8,
    DeleteTools = 1 << 9,
    DeleteWorkspace = 1 << 10,
    /// <summary>Change members' roles and roles' per-tool permissions.</summary>
    ManagePermissions = 1 << 11,
    All = (1u << 12) - 1,
}

public static class RoleNames
{
    public static string Name(this Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out Role role) =>
        Enum.TryParse(text, ignoreCase: true, out role) && Enum.IsDefined(role);

    public static bool TryParseKind(string? text, out ToolKind kind) =>
        Enum.TryParse(text, ignoreCase: true, out kind) && Enum.IsDefined(kind) && kind != ToolKind.Workspace;
}

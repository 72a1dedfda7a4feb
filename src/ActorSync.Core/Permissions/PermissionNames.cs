namespace ActorSync.Core.Permissions;

/// <summary>The names of permission flags on the CLI and the API ("view", "edit-own", ...), both ways.</summary>
public static class PermissionNames
{
    private static readonly (Permission Flag, string Name)[] Names =
    [
        (Permission.View, "view"), (Permission.Create, "create"), (Permission.EditOwn, "edit-own"), (Permission.EditAny, "edit-any"),
        (Permission.DeleteOwn, "delete-own"), (Permission.DeleteAny, "delete-any"), (Permission.Invite, "invite"),
        (Permission.Uninvite, "uninvite"), (Permission.AddTools, "add-tools"), (Permission.DeleteTools, "delete-tools"),
        (Permission.DeleteWorkspace, "delete-workspace"), (Permission.ManagePermissions, "manage-permissions"),
    ];

    public static IEnumerable<string> All => Names.Select(n => n.Name);

    public static IReadOnlyList<string> Format(Permission permissions) =>
        Names.Where(n => (permissions & n.Flag) == n.Flag).Select(n => n.Name).ToList();

    /// <summary>Parses names ("none" for no permission at all); false with the first unknown name otherwise.</summary>
    public static bool TryParse(IEnumerable<string> names, out Permission permissions, out string? unknown)
    {
        permissions = Permission.None;
        unknown = null;
        foreach (var raw in names)
        {
            var name = raw.Trim().ToLowerInvariant();
            if (name is "" or "none") continue;
            var match = Array.FindIndex(Names, n => n.Name == name);
            if (match < 0)
            {
                unknown = raw;
                return false;
            }
            permissions |= Names[match].Flag;
        }
        return true;
    }
}

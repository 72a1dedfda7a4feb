namespace ActorSync.Core.Permissions;

/// <summary>The default permission table of ARCHITECTURE.md section 5; managers may override it per tool.</summary>
public static class DefaultPermissions
{
    private const Permission ViewOnly = Permission.View;
    private const Permission EditOwnEntries = Permission.View | Permission.Create | Permission.EditOwn | Permission.DeleteOwn;
    private const Permission EditAllEntries = Permission.View | Permission.Create | Permission.EditOwn | Permission.EditAny
                                              | Permission.DeleteOwn | Permission.DeleteAny;

    public static Permission For(ToolKind kind, Role role) => (kind, role) switch
    {
        (ToolKind.Workspace, Role.Manager) => Permission.View | Permission.Invite | Permission.Uninvite | Permission.AddTools
                                              | Permission.DeleteTools | Permission.DeleteWorkspace | Permission.ManagePermissions,
        (ToolKind.Workspace, Role.Participant) => Permission.View | Permission.Invite | Permission.AddTools,
        (ToolKind.Workspace, _) => ViewOnly,

        (ToolKind.Calendar or ToolKind.Discussion, Role.Manager) => EditAllEntries,
        (ToolKind.Calendar or ToolKind.Discussion, Role.Participant) => EditOwnEntries,

        (ToolKind.Files, Role.Manager) => EditAllEntries | Permission.ManagePermissions,
        (ToolKind.Files, Role.Participant) => Permission.View | Permission.Create | Permission.EditOwn | Permission.EditAny | Permission.DeleteOwn,

        (ToolKind.Pictures, Role.Manager) => EditAllEntries,
        (ToolKind.Pictures, Role.Participant) => Permission.View | Permission.Create | Permission.EditOwn | Permission.EditAny,

        (ToolKind.Notepad or ToolKind.Sketchpad, Role.Manager or Role.Participant) => EditAllEntries,

        (ToolKind.Chat, _) => Permission.View | Permission.Create,

        _ => ViewOnly,
    };
}

using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;

namespace ActorSync.Core.Replication;

/// <summary>
/// What an inviter hands the invitee outside the workspace: which workspace, the role, and every
/// epoch key the inviter holds, wrapped for the invitee's key-agreement key (so the invitee can
/// read the history it is about to receive, and nobody else can).
/// </summary>
public sealed record Invitation(
    WorkspaceId Workspace,
    string WorkspaceName,
    ContactCard Inviter,
    AccountId Invitee,
    Role Role,
    DeltaId InviteDelta,
    byte[] WrappedKeyring)
{
    public static string KeyContext(WorkspaceId workspace) => "workspace/" + workspace;
}

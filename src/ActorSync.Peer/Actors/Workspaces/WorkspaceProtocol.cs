using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>Commands and queries of the workspace manager and workspace actors.</summary>
public static class WorkspaceProtocol
{
    // --- to the workspace manager
    public sealed record CreateWorkspace(string Name);
    public sealed record JoinWorkspace(byte[] Invitation);
    public sealed record ToWorkspace(WorkspaceId Workspace, object Message);
    public sealed record ListWorkspaces;
    public sealed record WorkspaceList(IReadOnlyList<Api.WorkspaceSummary> Workspaces);

    // --- to a workspace actor
    /// <summary>First message of a new workspace actor: create the workspace, or join it by invitation.</summary>
    public sealed record Initialize(string? CreateName, byte[]? JoinInvitation);

    public sealed record Author(ToolId Tool, DeltaOp Op);

    /// <summary>Author in the workspace's tool of this kind (resolved by the actor: no round trip for it).</summary>
    public sealed record AuthorIn(ToolKind Kind, DeltaOp Op);

    /// <summary>Many operations in the tool of this kind as one command: one write, one answer (<see cref="AuthoredMany"/>); a refusal stops the batch, keeping what came before it.</summary>
    public sealed record AuthorManyIn(ToolKind Kind, IReadOnlyList<DeltaOp> Ops);
    public sealed record Invite(ContactCard Card, Role Role);
    public sealed record Uninvite(AccountId Member);
    public sealed record PutFileContent(string Name, byte[] Content);
    public sealed record GetFileContent(string Name);
    public sealed record GetDetails;
    public sealed record GetSummary;
    public sealed record GetEntries(ToolKind Kind);
    public sealed record GetFiles;
    public sealed record GetJoinProgress;

    /// <summary>A manager sets what a role may do in the workspace's tool of this kind (<see cref="ToolKind.Workspace"/>: membership itself).</summary>
    public sealed record SetPermissions(ToolKind Kind, Role Role, Permission Permissions);
    public sealed record GetPermissions;

    /// <summary>A manager re-invites a member whose devices went dormant (answered with <see cref="ReinviteSent"/>).</summary>
    public sealed record Reinvite(AccountId Member);
    public sealed record ReinviteSent(int Devices);

    /// <summary>A fresh invitation to a workspace this device holds, from the device actor.</summary>
    public sealed record Reinvited(byte[] Invitation);

    /// <summary>Answered with <see cref="Flushed"/> once every write this workspace started before it is durable.</summary>
    public sealed class Flush
    {
        public static readonly Flush Instance = new();
        private Flush() { }
    }

    public sealed class Flushed
    {
        public static readonly Flushed Instance = new();
        private Flushed() { }
    }

    /// <summary>To the manager: this device was removed and has handed over what it wrote; erase its copy, then send the signed receipt to these member devices.</summary>
    /// <summary>From the manager to the device actor: this device left the workspace (erased); a later invitation to it is a new one.</summary>
    public sealed record WorkspaceLeftNotice(WorkspaceId Workspace);

    public sealed record WorkspaceDeleted(WorkspaceId Workspace, byte[] Receipt, IReadOnlyList<DeviceId> Notify);

    // --- replies
    public sealed record Created(WorkspaceId Workspace);
    public sealed record Authored(DeltaId Id);
    public sealed record AuthoredMany(IReadOnlyList<DeltaId> Ids);
    public sealed record Refused(string Reason, int Status = 400);
    public sealed record FileContent(byte[] Content);

    /// <summary>Published on the event stream for `actorsync watch`: Groove's alerts for a headless peer.</summary>
    public sealed record Alert(DateTimeOffset Time, string Kind, string? Workspace, string Text);
}

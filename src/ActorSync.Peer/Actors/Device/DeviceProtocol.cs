using ActorSync.Core.Identity;

namespace ActorSync.Peer.Actors.Device;

/// <summary>Messages of the device actor: contacts, invitations, and routing to its children.</summary>
public static class DeviceProtocol
{
    public sealed record AddContact(string Card, string? Address);
    public sealed record GetContacts;
    public sealed record GetInvitations;
    public sealed record AcceptInvitation(WorkspaceId Workspace);
    public sealed record FindContact(AccountId Account);
    public sealed record ContactFound(ContactCard? Card);

    /// <summary>Forward to /device/workspaces.</summary>
    public sealed record ToWorkspaces(object Message);
}

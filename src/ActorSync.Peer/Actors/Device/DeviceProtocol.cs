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

    /// <summary>
    /// Answered with <see cref="Ready"/> once the device actor and every workspace actor have
    /// recovered (persistent actors stash commands until then, so the answer is exact): the host
    /// accepts links only after it, so known devices are never refused as unknown at start-up.
    /// </summary>
    public sealed record WhenReady;

    public sealed record Ready;

    /// <summary>Forward to /device/workspaces.</summary>
    public sealed record ToWorkspaces(object Message);
}

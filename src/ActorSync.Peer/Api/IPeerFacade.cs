using ActorSync.Core.Permissions;

namespace ActorSync.Peer.Api;

/// <summary>
/// Everything the local HTTP API (and so every CLI verb) can ask of a running peer. Implemented over
/// the actor tree by <c>ActorPeerFacade</c>; the API layer only maps HTTP onto it. Ids travel as text
/// (workspace ids, account ids, entry ids) exactly as the CLI prints them. Failures throw
/// <see cref="PeerRequestException"/> with a one-line message safe to show to the user.
/// </summary>
public partial interface IPeerFacade
{
    Task<PeerInfo> InfoAsync(CancellationToken ct);
    Task<string> CardAsync(CancellationToken ct);

    Task<ContactView> AddContactAsync(string card, string? address, CancellationToken ct);
    Task<IReadOnlyList<ContactView>> ContactsAsync(CancellationToken ct);

    Task<string> CreateWorkspaceAsync(string name, CancellationToken ct);
    Task<IReadOnlyList<WorkspaceSummary>> WorkspacesAsync(CancellationToken ct);
    Task<WorkspaceDetails> ShowWorkspaceAsync(string workspace, CancellationToken ct);
    Task InviteAsync(string workspace, string account, Role role, CancellationToken ct);
    Task<IReadOnlyList<InvitationView>> InvitationsAsync(CancellationToken ct);
    /// <summary>Accepts a pending invitation; completes once the first copy is applied (or the timeout passes, with progress so far).</summary>
    Task<JoinProgress> AcceptAsync(string workspace, CancellationToken ct);
    Task<JoinProgress> JoinProgressAsync(string workspace, CancellationToken ct);
    Task UninviteAsync(string workspace, string account, CancellationToken ct);
    Task ChangeRoleAsync(string workspace, string account, Role role, CancellationToken ct);
    /// <summary>Re-invites a member whose devices went dormant; answers how many devices the fresh invitation went to.</summary>
    Task<int> ReinviteAsync(string workspace, string account, CancellationToken ct);
    Task SetPermissionsAsync(string workspace, ToolKind tool, Role role, Permission permissions, CancellationToken ct);
    Task<IReadOnlyList<PermissionView>> PermissionsAsync(string workspace, CancellationToken ct);

    /// <summary>Creates an entry in an entry tool (discussion, chat, calendar, notepad, sketchpad, pictures); returns its id.</summary>
    Task<string> CreateEntryAsync(string workspace, ToolKind kind, IReadOnlyDictionary<string, string> fields, CancellationToken ct);
    /// <summary>
    /// Creates many entries in one tool as one command: one journal write and one answer for all
    /// (imports, bulk loads). Returns their ids in order. An entry the tool refuses stops the batch
    /// with that refusal; the entries before it are kept (they are signed and applied already).
    /// </summary>
    Task<IReadOnlyList<string>> CreateEntriesAsync(string workspace, ToolKind kind, IReadOnlyList<IReadOnlyDictionary<string, string>> entries, CancellationToken ct);
    Task EditEntryAsync(string workspace, ToolKind kind, string entry, IReadOnlyDictionary<string, string> fields, CancellationToken ct);
    Task DeleteEntryAsync(string workspace, ToolKind kind, string entry, CancellationToken ct);
    Task<IReadOnlyList<EntryView>> EntriesAsync(string workspace, ToolKind kind, CancellationToken ct);

    Task<FileInfoView> PutFileAsync(string workspace, string name, Stream content, CancellationToken ct);
    /// <summary>Writes the file's current content to <paramref name="destination"/>; fails if content is not all here yet.</summary>
    Task GetFileAsync(string workspace, string name, Stream destination, CancellationToken ct);
    Task<IReadOnlyList<FileInfoView>> FilesAsync(string workspace, CancellationToken ct);

    /// <summary>
    /// Subscribes to alerts as they happen (new entries, files, chat, members, presence, conflicts,
    /// rejected deltas); fails for an unknown workspace. Every alert from when the task completes
    /// is in the stream, which ends when <paramref name="ct"/> is cancelled or its enumerator is disposed.
    /// </summary>
    Task<IAsyncEnumerable<AlertView>> WatchAsync(string? workspace, CancellationToken ct);
}

/// <summary>A refused or failed request, with a message for the user (never secrets or content).</summary>
public sealed class PeerRequestException : Exception
{
    public PeerRequestException(string message, int status = 400) : base(message) => Status = status;
    public int Status { get; }
}

public sealed record PeerInfo(string Account, string Name, string Device, string? ListenAddress);
public sealed record ContactView(string Account, string Name, IReadOnlyList<string> Devices, string Presence, string? Address);
public sealed record WorkspaceSummary(string Id, string Name, string Role, int Members);
public sealed record MemberView(string Account, string Name, string Role, IReadOnlyList<MemberDeviceView> Devices);
/// <param name="WaitingAtRelay">Envelopes this device sent that still wait in that device's relay mailbox (null: none sent through the relay).</param>
public sealed record MemberDeviceView(string Device, string Presence, string Route, long AppliedDeltas, long PendingToSend, int? WaitingAtRelay = null);
public sealed record WorkspaceDetails(
    string Id, string Name, string Role, string StateHash, long Deltas, int Buffered, int Parked, int Rejected,
    IReadOnlyList<MemberView> Members, IReadOnlyList<string> Tools)
{
    /// <summary>Members removed (and not invited again), with the deletion receipts their devices signed.</summary>
    public IReadOnlyList<RemovedMemberView> Removed { get; init; } = [];

    /// <summary>The delta log held here: how much of it every active member has confirmed, and who holds the rest back.</summary>
    public RetentionView? Retention { get; init; }

    /// <summary>When this device last had the workspace open, heard a member in it or wrote to it (ISO 8601).</summary>
    public string? EnteredAt { get; init; }

    /// <summary>True when this device's copy is dormant: not synced until a manager re-invites it.</summary>
    public bool Dormant { get; init; }
}

/// <param name="Deleted">Per device of the removed member that has sent a signed deletion receipt: when it deleted its copy.</param>
/// <param name="Overridden">True when a manager set it; false for the default table.</param>
public sealed record PermissionView(string Tool, string Kind, string Role, IReadOnlyList<string> Permissions, bool Overridden);

/// <param name="Logged">Deltas in this device's log.</param>
/// <param name="HeldByAll">Of those, how many every active (not dormant) member device has confirmed holding.</param>
/// <param name="PinnedBy">Active member devices that have not confirmed some of the log, with how many.</param>
/// <param name="Pruned">Applied deltas no longer in the log (pruned here, or covered by the image this copy started from).</param>
/// <param name="Fetching">Deltas of the image this copy started from that its log still waits for.</param>
public sealed record RetentionView(long Logged, long HeldByAll, IReadOnlyList<PinView> PinnedBy, long Pruned = 0, long Fetching = 0);
public sealed record PinView(string Member, string Device, long Deltas);

public sealed record RemovedMemberView(string Account, string Name, string Removal, IReadOnlyList<DeletionView> Deleted);
public sealed record DeletionView(string Device, string DeletedAt);
public sealed record InvitationView(string Workspace, string Name, string Inviter, string InviterName, string Role, string Status);
public sealed record JoinProgress(string Workspace, bool Complete, long Deltas, string? Message);
public sealed record EntryView(
    string Id, string Author, string AuthorName, string Time, IReadOnlyDictionary<string, string> Fields, bool Edited);
public sealed record FileInfoView(string Name, long Size, string Hash, string Author, int Version, bool ConflictCopy, bool ContentComplete)
{
    /// <summary>In the answer to an upload only: sealed bytes of the content it authored (chunks the workspace did not hold), what members are sent.</summary>
    public long? NewContentBytes { get; init; }
}
public sealed record AlertView(string Time, string Kind, string? Workspace, string Text);

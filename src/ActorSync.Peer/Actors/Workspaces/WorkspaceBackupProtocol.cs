using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Export and import of a whole workspace (backup). Local messages only: they carry keys in clear
/// and never reach the serializer or a link.
/// </summary>
public static class WorkspaceBackupProtocol
{
    /// <summary>To a workspace actor: answered with <see cref="WorkspaceExport"/>.</summary>
    public sealed record ExportWorkspace;

    /// <summary>
    /// The keyring (<see cref="Core.Crypto.EpochKeyring.Export"/>) and every applied delta in the order
    /// applied (a causal order). Lazy: file content is read from the chunk pack as the export is
    /// written, one delta at a time (positional reads of an append-only file, safe off the actor).
    /// </summary>
    /// <param name="Image">For a pruned workspace: its replica image (transfer form: state and log ids); the deltas are then the log left.</param>
    public sealed record WorkspaceExport(WorkspaceId Workspace, byte[] Keyring, IEnumerable<SealedDelta> Deltas, byte[]? Image = null);

    /// <summary>
    /// To the workspace manager, which hands it to a new workspace actor: rebuild the workspace from
    /// an export, verifying every delta as if a member had sent it. Answered with
    /// <see cref="WorkspaceProtocol.Created"/> once it is durable, or a refusal (409 when this device
    /// holds the workspace already); a refused import leaves nothing behind.
    /// </summary>
    public sealed record ImportWorkspace(WorkspaceId Workspace, byte[] Keyring, IReadOnlyList<byte[]> Deltas, byte[]? Image = null);
}

namespace ActorSync.Peer.Api;

/// <summary>
/// Workspace backup over the local API. The peer streams and takes the export in clear (keyring and
/// sealed deltas, see <c>WorkspaceBundle</c>); the CLI encrypts and decrypts it with the user's
/// passphrase, so no passphrase ever reaches the peer.
/// </summary>
public partial interface IPeerFacade
{
    /// <summary>Writes the workspace's export (keyring, then every applied sealed delta as journaled) to <paramref name="destination"/>.</summary>
    Task ExportWorkspaceAsync(string workspace, Stream destination, CancellationToken ct);

    /// <summary>
    /// Rebuilds a workspace this device does not hold from an export, verifying every delta as if a
    /// member had sent it; returns its id. Refused (nothing kept) when the body is not a whole export,
    /// a delta does not verify, or the workspace is here already (409).
    /// </summary>
    Task<string> ImportWorkspaceAsync(Stream export, CancellationToken ct);
}

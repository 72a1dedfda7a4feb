using System.Security.Cryptography;
using ActorSync.Core.Backup;
using ActorSync.Core.Encoding;
using ActorSync.Peer.Actors.Device;
using ActorSync.Peer.Actors.Workspaces;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceBackupProtocol;

namespace ActorSync.Peer.Api;

public sealed partial class ActorPeerFacade
{
    public async Task ExportWorkspaceAsync(string workspace, Stream destination, CancellationToken ct)
    {
        var export = await AskWorkspace<WorkspaceExport>(workspace, new ExportWorkspace(), ct).ConfigureAwait(false);
        try
        {
            await WorkspaceBundle.WriteAsync(destination, export.Workspace, export.Keyring, export.Deltas, ct, export.Image).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(export.Keyring);
            if (export.Image is not null) CryptographicOperations.ZeroMemory(export.Image);
        }
    }

    public async Task<string> ImportWorkspaceAsync(Stream export, CancellationToken ct)
    {
        WorkspaceBundle.Contents contents;
        try
        {
            contents = await WorkspaceBundle.ReadAsync(export, ct).ConfigureAwait(false);
        }
        catch (WireFormatException e)
        {
            throw new PeerRequestException("not a whole workspace export: " + e.Message);
        }
        try
        {
            // Verifying and journaling a large export takes a while: the bound grows with it.
            var timeout = Timeout + Timeout + TimeSpan.FromMilliseconds(contents.Deltas.Count);
            var created = await Ask<WorkspaceProtocol.Created>(
                new DeviceProtocol.ToWorkspaces(new ImportWorkspace(contents.Workspace, contents.Keyring, contents.Deltas, contents.Image)), ct, timeout).ConfigureAwait(false);
            return created.Workspace.ToString();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contents.Keyring);
            if (contents.Image is not null) CryptographicOperations.ZeroMemory(contents.Image);
        }
    }
}

using System.Security.Cryptography;
using ActorSync.Cli.Backup;
using ActorSync.Core.Backup;
using ActorSync.Core.Encoding;
using ActorSync.Peer.Api;
using ActorSync.Peer.Home;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>
/// Backup and restore, encrypted with a passphrase (see <see cref="Passphrase"/>). Workspaces go
/// through the running peer (it streams the export and verifies every delta of an import); the CLI
/// does the encryption, so the passphrase never reaches the peer. The account works on the home
/// folder alone: no peer is needed, and restore needs an empty home.
/// </summary>
internal static class BackupVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("ws export", "WS OUT", "write the workspace (keyring and signed, encrypted deltas) to OUT, encrypted with a passphrase",
            VerbShape.Of(2, 2), Export),
        new("ws import", "FILE", "bring back a workspace from an export into this device (its deltas are verified again); prints its id",
            VerbShape.Of(1, 1), Import),
        new("account backup", "OUT", "write this home's identity (keys, TLS certificate, relays) to OUT, encrypted with a passphrase; no peer needed",
            VerbShape.Of(1, 1), Backup),
        new("account restore", "FILE", "restore an identity from an account backup into an empty home (then start the peer and import workspaces)",
            VerbShape.Of(1, 1), Restore),
    ];

    private static async Task<int> Export(Invocation inv)
    {
        var (ws, output) = (inv.Args.Positional(0), inv.Args.Positional(1));
        var api = inv.Api;
        var passphrase = Passphrase.Read(inv.Console, creating: true);
        try
        {
            await SecretFile.WriteAsync(output, async file =>
            {
                using var writer = BackupWriter.Create(file, BackupKind.Workspace, passphrase);
                await api.DownloadAsync(PeerApiClient.Route("v1", "workspaces", ws, "export"), writer, inv.Ct);
                writer.Complete();
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passphrase);
        }
        inv.Out.WriteLine($"exported workspace {TextTable.Clean(ws)} to {output} ({TextTable.Size(new FileInfo(output).Length)})");
        return ExitCodes.Ok;
    }

    private static async Task<int> Import(Invocation inv)
    {
        var api = inv.Api;
        await using var file = SecretFile.OpenRead(inv.Args.Positional(0));
        using var reader = OpenChecked(file, BackupKind.Workspace, inv.Console);
        // The whole file is proven before the peer sees a byte of it.
        Checked(reader.VerifyAndRewind);
        var created = await api.PostStreamAsync<CreatedId>("v1/workspaces/import", reader, inv.Ct);
        inv.Out.WriteLine(created.Id);
        return ExitCodes.Ok;
    }

    private static async Task<int> Backup(Invocation inv)
    {
        var home = inv.Home;
        if (!PeerHome.Exists(home)) throw new CliException($"{home} holds no ActorSync identity");
        var bundle = HomeBackup.Collect(home);
        var passphrase = Passphrase.Read(inv.Console, creating: true);
        try
        {
            await SecretFile.WriteAsync(inv.Args.Positional(0), file =>
            {
                using var writer = BackupWriter.Create(file, BackupKind.Account, passphrase);
                writer.Write(bundle);
                writer.Complete();
                return Task.CompletedTask;
            });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passphrase);
            CryptographicOperations.ZeroMemory(bundle);
        }
        inv.Out.WriteLine($"backed up the identity of {home} to {inv.Args.Positional(0)}");
        return ExitCodes.Ok;
    }

    private static Task<int> Restore(Invocation inv)
    {
        var home = inv.Home;
        if (PeerHome.Exists(home)) throw new CliException($"{home} already holds an identity; restore only into an empty home");
        using var file = SecretFile.OpenRead(inv.Args.Positional(0));
        using var reader = OpenChecked(file, BackupKind.Account, inv.Console);
        using var plain = new MemoryStream();
        Checked(() => reader.CopyTo(plain));
        var bundle = plain.GetBuffer().AsSpan(0, (int)plain.Length);
        try
        {
            using var restored = HomeBackup.Restore(home, bundle);
            inv.Out.WriteLine(restored.Account.Id.ToString());
            inv.Err.WriteLine("restored; this home is now the same device as the one backed up: run only one of them");
        }
        catch (WireFormatException e)
        {
            throw new CliException("not an account backup: " + e.Message);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bundle);
        }
        return Task.FromResult(ExitCodes.Ok);
    }

    /// <summary>Checks the header (a backup, and of this kind) before asking for the passphrase, then derives the key.</summary>
    private static BackupReader OpenChecked(Stream file, BackupKind kind, CliConsole console)
    {
        var header = Checked(() => BackupHeader.Read(file));
        if (header.Kind != kind) throw new CliException($"this file is {BackupHeader.Describe(header.Kind)}, not {BackupHeader.Describe(kind)}");
        file.Seek(0, SeekOrigin.Begin);
        var passphrase = Passphrase.Read(console, creating: false);
        try
        {
            return Checked(() => BackupReader.Open(file, kind, passphrase));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passphrase);
        }
    }

    private static void Checked(Action action) => Checked(() =>
    {
        action();
        return 0;
    });

    private static T Checked<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (BackupFormatException e)
        {
            throw new CliException(e.Message);
        }
    }
}

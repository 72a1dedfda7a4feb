using System.Security.Cryptography;
using ActorSync.Cli.Backup;
using ActorSync.Cli.Tests.Support;
using ActorSync.Peer.Home;
using Xunit;

namespace ActorSync.Cli.Tests;

/// <summary>
/// The backup verbs in-process: workspaces against a real API server over a recording facade (the
/// file round-trips the peer's bytes), the account on real home folders. One class, so the
/// passphrase variable (process-wide) is set by one test at a time.
/// </summary>
public sealed class BackupVerbSpecs : IDisposable
{
    private const int Timeout = 120_000;
    private readonly string? _saved = Environment.GetEnvironmentVariable(Passphrase.Variable);

    public BackupVerbSpecs() => Environment.SetEnvironmentVariable(Passphrase.Variable, "correct horse battery staple");

    public void Dispose() => Environment.SetEnvironmentVariable(Passphrase.Variable, _saved);

    [Fact(Timeout = Timeout)]
    public async Task Ws_export_then_import_should_hand_the_peer_back_exactly_what_it_exported()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        api.Facade.Export = RandomNumberGenerator.GetBytes(300_000);
        var file = Path.Combine(home, "garden.asbackup");

        var export = await CliRun.RunAsync("ws", "export", "--home", home, "ws1", file);
        Assert.Equal((0, ""), (export.ExitCode, export.Err.ToString()));
        Assert.StartsWith("exported workspace ws1 to ", export.Out.ToString());
        var bytes = await File.ReadAllBytesAsync(file);
        Assert.Equal("ASBACKUP"u8.ToArray(), bytes[..8]);
        // Encrypted: the plaintext's first bytes appear nowhere in the file.
        Assert.DoesNotContain(Convert.ToHexString(api.Facade.Export[..16]), Convert.ToHexString(bytes));

        var again = await CliRun.RunAsync("ws", "export", "--home", home, "ws1", file);
        Assert.Equal((1, $"actorsync ws export: {file} exists already (a backup never overwrites a file)\n"), (again.ExitCode, again.Err.ToString()));

        var import = await CliRun.RunAsync("ws", "import", "--home", home, file);
        Assert.Equal((0, "ws1\n"), (import.ExitCode, import.Out.ToString()));
        Assert.Equal(api.Facade.Export, Assert.Single(api.Facade.Imports));

        Environment.SetEnvironmentVariable(Passphrase.Variable, "not the passphrase");
        var wrong = await CliRun.RunAsync("ws", "import", "--home", home, file);
        Assert.Equal((1, "actorsync ws import: wrong passphrase or damaged file\n"), (wrong.ExitCode, wrong.Err.ToString()));
        Environment.SetEnvironmentVariable(Passphrase.Variable, "correct horse battery staple");

        // A damaged file is refused whole before the peer sees a byte of it.
        bytes[^40] ^= 1;
        var damaged = Path.Combine(home, "damaged.asbackup");
        await File.WriteAllBytesAsync(damaged, bytes);
        var refused = await CliRun.RunAsync("ws", "import", "--home", home, damaged);
        Assert.Equal((1, "actorsync ws import: wrong passphrase or damaged file\n"), (refused.ExitCode, refused.Err.ToString()));
        var notBackup = await CliRun.RunAsync("ws", "import", "--home", home, Path.Combine(home, PeerHome.TokenFile));
        Assert.Equal((1, "actorsync ws import: not an ActorSync backup file\n"), (notBackup.ExitCode, notBackup.Err.ToString()));
        Assert.Single(api.Facade.Imports);

        api.Facade.Fail = new ActorSync.Peer.Api.PeerRequestException("no workspace ws9 on this device", 404);
        var missing = Path.Combine(home, "missing.asbackup");
        var failed = await CliRun.RunAsync("ws", "export", "--home", home, "ws9", missing);
        Assert.Equal(1, failed.ExitCode);
        Assert.False(File.Exists(missing));
        Assert.Empty(Directory.GetFiles(home, "*.partial"));
    }

    [Fact(Timeout = Timeout)]
    public async Task Account_backup_should_restore_the_same_identity_into_an_empty_home_only()
    {
        var root = Directory.CreateTempSubdirectory("actorsync-account-").FullName;
        try
        {
            var home = Path.Combine(root, "ann");
            var init = await CliRun.RunAsync("init", "--home", home, "--name", "Ann");
            Assert.Equal(0, init.ExitCode);
            var file = Path.Combine(root, "ann.asbackup");
            var backup = await CliRun.RunAsync("account", "backup", "--home", home, file);
            Assert.Equal((0, ""), (backup.ExitCode, backup.Err.ToString()));

            var fresh = Path.Combine(root, "fresh");
            var restore = await CliRun.RunAsync("account", "restore", "--home", fresh, file);
            Assert.Equal((0, init.Out.ToString()), (restore.ExitCode, restore.Out.ToString()));
            foreach (var name in new[] { PeerHome.IdentityFile, "device-tls.pfx", PeerHome.RelaysFile })
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(home, name)), await File.ReadAllBytesAsync(Path.Combine(fresh, name)));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(fresh, PeerHome.IdentityFile)));
            using (var original = PeerHome.Load(home))
            using (var restored = PeerHome.Load(fresh))
                Assert.Equal((original.Device.Id, Convert.ToHexString(original.Tls.Pin)), (restored.Device.Id, Convert.ToHexString(restored.Tls.Pin)));

            var overwrite = await CliRun.RunAsync("account", "restore", "--home", home, file);
            Assert.Equal((1, $"actorsync account restore: {home} already holds an identity; restore only into an empty home\n"),
                (overwrite.ExitCode, overwrite.Err.ToString()));

            Environment.SetEnvironmentVariable(Passphrase.Variable, "not the passphrase");
            var wrong = await CliRun.RunAsync("account", "restore", "--home", Path.Combine(root, "other"), file);
            Assert.Equal((1, "actorsync account restore: wrong passphrase or damaged file\n"), (wrong.ExitCode, wrong.Err.ToString()));
            Assert.False(PeerHome.Exists(Path.Combine(root, "other")));

            Environment.SetEnvironmentVariable(Passphrase.Variable, null);
            var none = await CliRun.RunAsync("account", "backup", "--home", home, Path.Combine(root, "second.asbackup"));
            Assert.Equal((1, "actorsync account backup: no passphrase: set ACTORSYNC_PASSPHRASE or run this in a terminal to be asked for one\n"),
                (none.ExitCode, none.Err.ToString()));
            Environment.SetEnvironmentVariable(Passphrase.Variable, "short");
            var weak = await CliRun.RunAsync("account", "backup", "--home", home, Path.Combine(root, "second.asbackup"));
            Assert.Equal((1, "actorsync account backup: a backup passphrase is at least 8 characters\n"), (weak.ExitCode, weak.Err.ToString()));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

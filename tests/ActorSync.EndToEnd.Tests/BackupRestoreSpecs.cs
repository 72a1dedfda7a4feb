using System.Text.Json;
using ActorSync.EndToEnd.Tests.Support;
using Xunit;

namespace ActorSync.EndToEnd.Tests;

/// <summary>
/// Backup and restore with real processes: a device's workspace is exported and its account backed
/// up; the device is lost (its peer stopped); the account is restored onto a fresh home, a peer is
/// started there and the workspace imported, and `ws show` gives the exporter's stateHash. A wrong
/// passphrase and a second import are refused with one clear line.
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class BackupRestoreSpecs
{
    private const string Secret = "tulips in the rain, 2026";

    private static Task<CliResult> Cli(string passphrase, params string[] args) =>
        ActorSyncCli.RunAsync(args, environment: new Dictionary<string, string?> { ["ACTORSYNC_PASSPHRASE"] = passphrase });

    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task A_workspace_and_account_restored_onto_a_fresh_home_should_give_the_same_state_hash()
    {
        await using var cluster = new PeerCluster();
        var ann = (await cluster.StartAsync("Ann"))[0];
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Garden club");
        await ann.OkAsync("discussion", "post", ws, "Who orders the seeds?", "--title", "Seeds");
        await ann.OkAsync("discussion", "post", ws, "Tulips, again.");
        await ann.OkAsync("chat", "say", ws, "Saturday at ten");
        var content = new byte[1_500_000];
        new Random(7).NextBytes(content);
        var upload = Path.Combine(cluster.Root, "plan.bin");
        await File.WriteAllBytesAsync(upload, content);
        await ann.OkAsync("files", "put", ws, upload);
        var hash = await PeerCluster.StateHashAsync(ann, ws);
        Assert.False(string.IsNullOrEmpty(hash));

        var export = Path.Combine(cluster.Root, "garden.asbackup");
        (await Cli(Secret, "ws", "export", "--home", ann.Home, ws, export)).EnsureSuccess();
        var account = Path.Combine(cluster.Root, "ann.asbackup");
        (await Cli(Secret, "account", "backup", "--home", ann.Home, account)).EnsureSuccess();

        // The device is lost: only the two files remain.
        Assert.Equal(0, await ann.TerminateAsync());
        var fresh = Path.Combine(cluster.Root, "ann-new");
        var wrongAccount = await Cli("not the passphrase", "account", "restore", "--home", fresh, account);
        Assert.Equal((1, "actorsync account restore: wrong passphrase or damaged file"), (wrongAccount.ExitCode, wrongAccount.ErrorLines.Single()));
        var restored = (await Cli(Secret, "account", "restore", "--home", fresh, account)).EnsureSuccess();
        Assert.Equal(ann.Account, restored.LastLine);
        var again = await Cli(Secret, "account", "restore", "--home", fresh, account);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already holds an identity", again.Stderr, StringComparison.Ordinal);

        await using var annNew = new PeerProcess("Ann", fresh);
        await annNew.StartAsync();
        var wrong = await Cli("not the passphrase", "ws", "import", "--home", fresh, export);
        Assert.Equal((1, "actorsync ws import: wrong passphrase or damaged file"), (wrong.ExitCode, wrong.ErrorLines.Single()));
        var notExport = await Cli(Secret, "ws", "import", "--home", fresh, account);
        Assert.Equal((1, "actorsync ws import: this file is an account backup, not a workspace export"), (notExport.ExitCode, notExport.ErrorLines.Single()));
        Assert.Equal(ws, (await Cli(Secret, "ws", "import", "--home", fresh, export)).EnsureSuccess().LastLine);

        Assert.Equal(hash, await PeerCluster.StateHashAsync(annNew, ws));
        Assert.Equal(content, await Listings.DownloadAsync(annNew, ws, "plan.bin"));
        Assert.Equal(["Tulips, again.", "Who orders the seeds?"], (await Listings.DiscussionAsync(annNew, ws)).Select(e => e.Text).Order(StringComparer.Ordinal));
        var duplicate = await Cli(Secret, "ws", "import", "--home", fresh, export);
        Assert.Equal((1, "actorsync ws import: this device holds that workspace already"), (duplicate.ExitCode, duplicate.ErrorLines.Single()));

        // It is the same account and device, and it writes on after its own last delta.
        using (var info = JsonDocument.Parse((await annNew.OkAsync("info", "--json")).Stdout))
            Assert.Equal(ann.Account, info.RootElement.GetProperty("account").GetString());
        await annNew.OkAsync("discussion", "post", ws, "Back on a new machine.");
        Assert.Equal(3, (await Listings.DiscussionAsync(annNew, ws)).Count);

        // And all of it survives a restart of the new peer.
        var after = await PeerCluster.StateHashAsync(annNew, ws);
        Assert.Equal(0, await annNew.TerminateAsync());
        await annNew.StartAsync();
        Assert.Equal(after, await PeerCluster.StateHashAsync(annNew, ws));
    }

    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task An_imported_workspace_should_sync_again_with_the_other_members()
    {
        await using var cluster = new PeerCluster();
        var peers = await cluster.StartAsync("Ann", "Bob");
        var (ann, bob) = (peers[0], peers[1]);
        await PeerCluster.ExchangeCardsAsync(ann, bob);
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Garden club");
        await cluster.InviteAndJoinAsync(ann, ws, (bob, "participant"));
        await ann.OkAsync("discussion", "post", ws, "Before the backup.");
        await cluster.ConvergedAsync(ws, ann, bob);

        var export = Path.Combine(cluster.Root, "garden.asbackup");
        (await Cli(Secret, "ws", "export", "--home", ann.Home, ws, export)).EnsureSuccess();
        var account = Path.Combine(cluster.Root, "ann.asbackup");
        (await Cli(Secret, "account", "backup", "--home", ann.Home, account)).EnsureSuccess();
        Assert.Equal(0, await ann.TerminateAsync());

        // Bob writes while Ann's device is gone; Ann comes back on a new home from her two files.
        await bob.OkAsync("discussion", "post", ws, "While Ann was away.");
        var fresh = Path.Combine(cluster.Root, "ann-new");
        (await Cli(Secret, "account", "restore", "--home", fresh, account)).EnsureSuccess();
        await using var annNew = new PeerProcess("Ann", fresh);
        await annNew.StartAsync();
        (await Cli(Secret, "ws", "import", "--home", fresh, export)).EnsureSuccess();
        // Contacts are not in an account backup: Ann adds Bob's card again (with where he listens).
        await annNew.OkAsync("contact", "add", (await bob.OkAsync("card")).LastLine, "--address", bob.LinkAddress);

        await cluster.ConvergedAsync(ws, annNew, bob);
        Assert.Equal(["Before the backup.", "While Ann was away."],
            (await Listings.DiscussionAsync(annNew, ws)).Select(e => e.Text).Order(StringComparer.Ordinal));
        await annNew.OkAsync("discussion", "post", ws, "Back on a new machine.");
        await cluster.EventuallyAsync("Bob to see Ann's post from her new machine", () => Listings.DiscussionAsync(bob, ws),
            l => l.Count == 3, Listings.Describe);
        await cluster.ConvergedAsync(ws, annNew, bob);
    }
}

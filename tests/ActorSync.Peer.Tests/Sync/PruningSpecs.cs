using ActorSync.Core.Permissions;
using Microsoft.Data.Sqlite;
using Xunit;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>
/// Log pruning between real peers: deltas every active member holds leave the log and, after a
/// snapshot covers them, the journal; recovery starts from the snapshot; an invitee of a pruned
/// workspace starts from an image its inviter sends, then fetches the log that is left.
/// </summary>
public class PruningSpecs
{
    // Pruning goes in steps of at least prune-after (20) deltas held by all, as acknowledgements come
    // in: of 60 posts, at least 41 are pruned for sure (the rest may wait for the next 20).
    private const int SurelyPruned = 41;

    private const string Pruning = """
        actorsync.workspace.prune-after = 20
        actorsync.workspace.snapshot-every = 1000000
        """;

    private static Dictionary<string, string> Text(string text) => new() { ["text"] = text };

    private static long JournalRows(TestPeer peer, string ws)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(peer.HomePath, "journal.db")};Mode=ReadOnly");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id";
        count.Parameters.AddWithValue("$id", "ws-" + ws);
        return (long)count.ExecuteScalar()!;
    }

    private static async Task<string> HashAsync(TestPeer peer, string ws) => (await peer.Api.ShowWorkspaceAsync(ws, default)).StateHash;

    private static async Task JoinAsync(TestPeer inviter, TestPeer invitee, string ws)
    {
        await TestPeer.ConnectAsync(inviter, invitee);
        await inviter.Api.InviteAsync(ws, (await invitee.Api.InfoAsync(default)).Account, Role.Participant, default);
        await TestPeer.Eventually(async () => (await invitee.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
        await invitee.Api.AcceptAsync(ws, default);
    }

    private static async Task<string> PrunedTeamAsync(TestPeer ann, TestPeer bob, int posts)
    {
        var ws = await ann.Api.CreateWorkspaceAsync("Team", default);
        await JoinAsync(ann, bob, ws);
        await TestPeer.Eventually(async () => await HashAsync(bob, ws) == await HashAsync(ann, ws), "bob's first copy");
        await ann.Api.CreateEntriesAsync(ws, ToolKind.Chat, Enumerable.Range(0, posts).Select(i => (IReadOnlyDictionary<string, string>)Text("post " + i)).ToList(), default);
        await TestPeer.Eventually(async () => await HashAsync(bob, ws) == await HashAsync(ann, ws), "bob holds every post");
        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention!.Pruned >= posts - 19,
            "ann prunes what bob confirmed holding");
        return ws;
    }

    [Fact]
    public async Task Deltas_every_member_holds_should_leave_the_log_and_journal_and_recovery_should_start_from_the_snapshot()
    {
        await using var ann = await TestPeer.StartAsync("ann", extraConfig: Pruning);
        await using var bob = await TestPeer.StartAsync("bob", extraConfig: Pruning);
        var ws = await ann.Api.CreateWorkspaceAsync("Team", default);
        await JoinAsync(ann, bob, ws);
        await TestPeer.Eventually(async () => await HashAsync(bob, ws) == await HashAsync(ann, ws), "bob's first copy");
        await ann.Api.CreateEntriesAsync(ws, ToolKind.Chat, Enumerable.Range(0, 60).Select(i => (IReadOnlyDictionary<string, string>)Text("post " + i)).ToList(), default);
        await TestPeer.Eventually(async () => await HashAsync(bob, ws) == await HashAsync(ann, ws), "bob holds every post");
        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention!.Pruned >= SurelyPruned, "ann prunes");
        var retention = (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention!;
        // Administrative deltas (creation, invitation) stay in the log; the posts pruned are gone from it.
        Assert.True(retention.Logged <= 62 - retention.Pruned, $"{retention.Logged} deltas still logged, {retention.Pruned} pruned");
        // The snapshot is saved and the journal events it covers deleted (rows written since may remain).
        await TestPeer.Eventually(() => Task.FromResult(JournalRows(ann, ws) < 10), "ann's journal loses the pruned deltas (a snapshot covers them)");
        var hash = await HashAsync(ann, ws);

        await ann.RestartAsync();

        Assert.Equal(hash, await HashAsync(ann, ws));
        Assert.Equal(60, (await ann.Api.EntriesAsync(ws, ToolKind.Chat, default)).Count);
        // Ann's sequence numbers go on from the snapshot: her next post is applied at Bob.
        var next = await ann.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("after the restart"), default);
        await TestPeer.Eventually(async () => (await bob.Api.EntriesAsync(ws, ToolKind.Chat, default)).Any(e => e.Id == next), "bob gets the next post");
        Assert.Equal(await HashAsync(ann, ws), await HashAsync(bob, ws));
    }

    [Fact]
    public async Task An_invitee_of_a_pruned_workspace_should_start_from_its_inviters_image_and_then_sync_as_usual()
    {
        await using var ann = await TestPeer.StartAsync("ann", extraConfig: Pruning);
        await using var bob = await TestPeer.StartAsync("bob", extraConfig: Pruning);
        await using var cat = await TestPeer.StartAsync("cat", extraConfig: Pruning);
        var ws = await PrunedTeamAsync(ann, bob, 60);
        // Bob pruned too: whoever Cat reaches, the history is no longer in anyone's log.
        await TestPeer.Eventually(async () => (await bob.Api.ShowWorkspaceAsync(ws, default)).Retention!.Pruned >= SurelyPruned, "bob prunes");
        await TestPeer.ConnectAsync(bob, cat);

        await JoinAsync(ann, cat, ws);

        await TestPeer.Eventually(async () => await HashAsync(cat, ws) == await HashAsync(ann, ws), "cat's copy from the image");
        Assert.Equal(60, (await cat.Api.EntriesAsync(ws, ToolKind.Chat, default)).Count);
        await TestPeer.Eventually(async () => (await cat.Api.ShowWorkspaceAsync(ws, default)).Retention!.Fetching == 0, "cat fetches the log left");
        var fromCat = await cat.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("hello from cat"), default);
        foreach (var member in new[] { ann, bob })
            await TestPeer.Eventually(async () => (await member.Api.EntriesAsync(ws, ToolKind.Chat, default)).Any(e => e.Id == fromCat), "cat's post arrives");
        var fromBob = await bob.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("welcome"), default);
        await TestPeer.Eventually(async () => (await cat.Api.EntriesAsync(ws, ToolKind.Chat, default)).Any(e => e.Id == fromBob), "bob's post reaches cat");
        await TestPeer.Eventually(async () => await HashAsync(cat, ws) == await HashAsync(ann, ws) && await HashAsync(bob, ws) == await HashAsync(ann, ws),
            "all three converge");

        // The image is Cat's durable base: it survives a restart.
        var hash = await HashAsync(cat, ws);
        await cat.RestartAsync();
        Assert.Equal(hash, await HashAsync(cat, ws));
    }

    [Fact]
    public async Task A_member_removed_while_offline_should_still_get_its_removals_past_and_erase_after_the_others_could_prune_it()
    {
        await using var ann = await TestPeer.StartAsync("ann", extraConfig: Pruning);
        await using var bob = await TestPeer.StartAsync("bob", extraConfig: Pruning);
        await using var cat = await TestPeer.StartAsync("cat", extraConfig: Pruning);
        var ws = await ann.Api.CreateWorkspaceAsync("Team", default);
        await JoinAsync(ann, bob, ws);
        await TestPeer.ConnectAsync(bob, cat);
        await JoinAsync(ann, cat, ws);
        await TestPeer.Eventually(async () => await HashAsync(cat, ws) == await HashAsync(ann, ws) && await HashAsync(bob, ws) == await HashAsync(ann, ws),
            "all three hold the workspace");
        var catAccount = (await cat.Api.InfoAsync(default)).Account;

        // Cat is away while 60 posts are written and Bob confirms them; then Ann removes her. Cat no
        // longer pins the log as a member, but she must still be able to apply her removal.
        await cat.StopAsync();
        await ann.Api.CreateEntriesAsync(ws, ToolKind.Chat, Enumerable.Range(0, 60).Select(i => (IReadOnlyDictionary<string, string>)Text("post " + i)).ToList(), default);
        await ann.Api.UninviteAsync(ws, catAccount, default);
        await TestPeer.Eventually(async () => await HashAsync(bob, ws) == await HashAsync(ann, ws), "bob holds every post and the removal");

        await cat.StartAgainAsync();
        await TestPeer.ConnectAsync(ann, cat);
        await TestPeer.ConnectAsync(bob, cat);

        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Removed.SingleOrDefault(r => r.Account == catAccount)?.Deleted.Count == 1,
            "cat applies her removal, erases her copy and her receipt reaches ann");
        // With her receipt in, nothing pins the posts any more.
        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention!.Pruned >= SurelyPruned, "ann prunes the posts");
    }
}

using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;
using Microsoft.Data.Sqlite;
using Xunit;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>
/// Uninvite between real peers: the removed device deletes its copy (journal rows included) and
/// sends a signed deletion receipt the members show; what it wrote before hearing of its removal
/// is handed over, not lost.
/// </summary>
public class UninviteSpecs
{
    private static Dictionary<string, string> Text(string text) => new() { ["text"] = text };

    private static async Task<string> TeamAsync(TestPeer ann, params TestPeer[] others)
    {
        var ws = await ann.Api.CreateWorkspaceAsync("Team", default);
        foreach (var peer in others)
        {
            await TestPeer.ConnectAsync(ann, peer);
            foreach (var other in others.Where(o => o != peer)) await TestPeer.ConnectAsync(peer, other);
            await ann.Api.InviteAsync(ws, (await peer.Api.InfoAsync(default)).Account, Role.Participant, default);
            await TestPeer.Eventually(async () => (await peer.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
            await peer.Api.AcceptAsync(ws, default);
            await TestPeer.Eventually(async () => (await peer.Api.JoinProgressAsync(ws, default)).Complete, "first copy");
        }
        return ws;
    }

    private static long JournalRows(TestPeer peer, string ws)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(peer.HomePath, "journal.db")};Mode=ReadOnly");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id";
        count.Parameters.AddWithValue("$id", "ws-" + ws);
        return (long)count.ExecuteScalar()!;
    }

    private static async Task<RemovedMemberView?> RemovedAsync(TestPeer at, string ws, string account) =>
        (await at.Api.ShowWorkspaceAsync(ws, default)).Removed.SingleOrDefault(r => r.Account == account);

    [Fact]
    public async Task Removed_online_device_should_delete_its_copy_and_every_member_should_see_its_signed_receipt()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        await using var bob = await TestPeer.StartAsync("bob");
        await using var cat = await TestPeer.StartAsync("cat");
        var ws = await TeamAsync(ann, bob, cat);
        var catAccount = (await cat.Api.InfoAsync(default)).Account;
        var catDevice = (await cat.Api.InfoAsync(default)).Device;
        var catsPost = await cat.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("from cat"), default);
        Assert.True(JournalRows(cat, ws) > 0);
        // File content is in the workspace's chunk pack, outside the journal: erased too.
        // (Content of a few KiB stays inline in the journal; this is big enough for the pack.)
        await cat.Api.PutFileAsync(ws, "notes.bin", new MemoryStream(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 * 1024)), default);
        var pack = Path.Combine(cat.HomePath, "chunks", ws + ".pack");
        Assert.True(File.Exists(pack));

        await ann.Api.UninviteAsync(ws, catAccount, default);

        await TestPeer.Eventually(async () => (await cat.Api.WorkspacesAsync(default)).All(w => w.Id != ws), "cat forgets the workspace");
        var refused = await Assert.ThrowsAsync<PeerRequestException>(() => cat.Api.ShowWorkspaceAsync(ws, default));
        Assert.Equal(410, refused.Status);
        foreach (var member in new[] { ann, bob })
        {
            await TestPeer.Eventually(async () => (await RemovedAsync(member, ws, catAccount))?.Deleted.Count == 1, "the receipt reaches every member");
            // The receipt is sent only once the rows are erased.
            Assert.Equal(0, JournalRows(cat, ws));
            Assert.False(File.Exists(pack));
            var removed = (await RemovedAsync(member, ws, catAccount))!;
            Assert.Equal("cat", removed.Name);
            Assert.Equal(catDevice, removed.Deleted.Single().Device);
            Assert.Contains(await member.Api.EntriesAsync(ws, ToolKind.Chat, default), e => e.Id == catsPost);
        }
        // Receipts are kept: a member restarted still shows it.
        await bob.RestartAsync();
        Assert.Single((await RemovedAsync(bob, ws, catAccount))!.Deleted);

        // Removed by mistake: Ann invites Cat again, and the same device joins afresh and catches up.
        await TestPeer.ConnectAsync(bob, cat);
        await ann.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("while cat was out"), default);
        await ann.Api.InviteAsync(ws, catAccount, Role.Participant, default);
        await TestPeer.Eventually(async () => (await cat.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws && i.Status == "pending"),
            "cat receives the new invitation");
        await cat.Api.AcceptAsync(ws, default);
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).StateHash == (await cat.Api.ShowWorkspaceAsync(ws, default)).StateHash,
            "cat's new copy converges");
        Assert.Contains(await cat.Api.EntriesAsync(ws, ToolKind.Chat, default), e => e.Fields["text"] == "while cat was out");
        // A member again: no longer listed among the removed.
        Assert.DoesNotContain((await ann.Api.ShowWorkspaceAsync(ws, default)).Removed, r => r.Account == catAccount);
    }

    [Fact]
    public async Task Device_removed_while_stopped_should_hand_over_what_it_wrote_offline_then_delete_on_return()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        await using var cat = await TestPeer.StartAsync("cat");
        var ws = await TeamAsync(ann, cat);
        var catAccount = (await cat.Api.InfoAsync(default)).Account;

        // Cat writes while Ann is away, so Ann has never seen it; then Cat stops.
        await ann.Host.DisposeAsync();
        var offlinePost = await cat.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("written offline"), default);
        await cat.Host.DisposeAsync();

        // Ann comes back and removes Cat, then writes something Cat must never read.
        await ann.RestartAsync();
        await ann.Api.UninviteAsync(ws, catAccount, default);
        await ann.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("after the removal"), default);
        Assert.Null((await RemovedAsync(ann, ws, catAccount))?.Deleted.FirstOrDefault());

        await cat.RestartAsync();
        await TestPeer.ConnectAsync(ann, cat);

        await TestPeer.Eventually(async () => (await RemovedAsync(ann, ws, catAccount))?.Deleted.Count == 1, "cat's receipt");
        Assert.Contains(await ann.Api.EntriesAsync(ws, ToolKind.Chat, default), e => e.Id == offlinePost);
        Assert.True((await cat.Api.WorkspacesAsync(default)).All(w => w.Id != ws));
        Assert.Equal(0, JournalRows(cat, ws));
    }
}

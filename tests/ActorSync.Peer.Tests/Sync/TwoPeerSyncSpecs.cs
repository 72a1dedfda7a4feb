using ActorSync.Core.Permissions;
using Xunit;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>Two real peers in one process, syncing over gRPC with mutual TLS on 127.0.0.1, persisting to SQLite.</summary>
public class TwoPeerSyncSpecs
{
    [Fact]
    public async Task Invited_peer_should_get_the_first_copy_and_then_every_change_both_ways()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        await using var bob = await TestPeer.StartAsync("bob");
        await TestPeer.ConnectAsync(ann, bob);

        var ws = await ann.Api.CreateWorkspaceAsync("Garden", default);
        var first = await ann.Api.CreateEntryAsync(ws, ToolKind.Discussion, new Dictionary<string, string> { ["text"] = "hello" }, default);
        var bobAccount = (await bob.Api.InfoAsync(default)).Account;
        await ann.Api.InviteAsync(ws, bobAccount, Role.Participant, default);

        await TestPeer.Eventually(async () => (await bob.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "bob receives the invitation");
        await bob.Api.AcceptAsync(ws, default);
        await TestPeer.Eventually(async () => (await bob.Api.JoinProgressAsync(ws, default)).Complete, "bob's first copy");
        Assert.Contains(await bob.Api.EntriesAsync(ws, ToolKind.Discussion, default), e => e.Id == first);

        await bob.Api.CreateEntryAsync(ws, ToolKind.Chat, new Dictionary<string, string> { ["text"] = "hi ann" }, default);
        await ann.Api.PutFileAsync(ws, "plan.txt", new MemoryStream("tulips"u8.ToArray()), default);
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).StateHash == (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash
            && (await bob.Api.FilesAsync(ws, default)).Any(f => f.Name == "plan.txt" && f.ContentComplete), "equal state hashes");

        using var copy = new MemoryStream();
        await bob.Api.GetFileAsync(ws, "plan.txt", copy, default);
        Assert.Equal("tulips"u8.ToArray(), copy.ToArray());
        Assert.Single(await ann.Api.EntriesAsync(ws, ToolKind.Chat, default));
    }

    [Fact]
    public async Task Peer_restarted_on_the_same_home_should_recover_its_workspace_from_SQLite_and_catch_up()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        await using var bob = await TestPeer.StartAsync("bob");
        await TestPeer.ConnectAsync(ann, bob);
        var ws = await ann.Api.CreateWorkspaceAsync("Recover", default);
        await ann.Api.InviteAsync(ws, (await bob.Api.InfoAsync(default)).Account, Role.Participant, default);
        await TestPeer.Eventually(async () => (await bob.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
        await bob.Api.AcceptAsync(ws, default);
        await TestPeer.Eventually(async () => (await bob.Api.JoinProgressAsync(ws, default)).Complete, "first copy");

        var before = (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash;
        await bob.RestartAsync();
        Assert.Equal(before, (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash);

        // While bob restarts on a new port, ann keeps writing; bob's address is re-learned and it catches up.
        await ann.Api.CreateEntryAsync(ws, ToolKind.Notepad, new Dictionary<string, string> { ["title"] = "after restart" }, default);
        await ann.Api.AddContactAsync(await bob.Api.CardAsync(default), bob.Host.ListenAddress, default);
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).StateHash == (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash, "convergence");
    }
}

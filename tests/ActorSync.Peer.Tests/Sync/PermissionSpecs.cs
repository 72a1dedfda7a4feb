using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;
using Xunit;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>A manager changes what a role may do in one tool; the member's own replica enforces it from the change on.</summary>
public class PermissionSpecs
{
    private static Dictionary<string, string> Text(string text) => new() { ["text"] = text };

    private static async Task<IReadOnlyList<string>?> MayAsync(TestPeer peer, string ws, string kind, string role) =>
        (await peer.Api.PermissionsAsync(ws, default)).SingleOrDefault(p => p.Kind == kind && p.Role == role)?.Permissions;

    [Fact]
    public async Task Participant_should_be_refused_a_post_once_a_manager_makes_the_discussion_view_only_and_allowed_again_after()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        await using var bob = await TestPeer.StartAsync("bob");
        await TestPeer.ConnectAsync(ann, bob);
        var ws = await ann.Api.CreateWorkspaceAsync("Rules", default);
        await ann.Api.InviteAsync(ws, (await bob.Api.InfoAsync(default)).Account, Role.Participant, default);
        await TestPeer.Eventually(async () => (await bob.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
        await bob.Api.AcceptAsync(ws, default);
        await TestPeer.Eventually(async () => (await bob.Api.JoinProgressAsync(ws, default)).Complete, "first copy");
        Assert.Contains("create", (await MayAsync(bob, ws, "discussion", "participant"))!);

        await ann.Api.SetPermissionsAsync(ws, ToolKind.Discussion, Role.Participant, Permission.View, default);
        await TestPeer.Eventually(async () => (await MayAsync(bob, ws, "discussion", "participant"))?.SequenceEqual(["view"]) == true,
            "bob's replica applies the change");
        var refused = await Assert.ThrowsAsync<PeerRequestException>(() => bob.Api.CreateEntryAsync(ws, ToolKind.Discussion, Text("may I?"), default));
        Assert.Contains("not permitted", refused.Message);
        await bob.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("chat is untouched"), default);

        // A participant cannot give itself the permission back.
        await Assert.ThrowsAsync<PeerRequestException>(() =>
            bob.Api.SetPermissionsAsync(ws, ToolKind.Discussion, Role.Participant, Permission.View | Permission.Create, default));

        await ann.Api.SetPermissionsAsync(ws, ToolKind.Discussion, Role.Participant, Permission.View | Permission.Create, default);
        await TestPeer.Eventually(async () => (await MayAsync(bob, ws, "discussion", "participant"))?.Contains("create") == true, "restored");
        await bob.Api.CreateEntryAsync(ws, ToolKind.Discussion, Text("thanks"), default);
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).StateHash == (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash, "convergence");
        Assert.True((await ann.Api.PermissionsAsync(ws, default)).Single(p => p.Kind == "discussion" && p.Role == "participant").Overridden);
    }
}

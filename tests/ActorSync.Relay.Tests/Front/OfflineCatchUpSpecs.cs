using ActorSync.Core.Permissions;
using Xunit;

namespace ActorSync.Relay.Tests.Front;

/// <summary>Store and forward through a real relay node: the reader catches up while the author is offline.</summary>
public class OfflineCatchUpSpecs
{
    [Fact]
    public async Task Member_should_catch_up_through_the_relay_while_the_author_is_offline()
    {
        await using var fx = await RelayFixture.StartAsync();
        var ann = await fx.StartPeerAsync("ann");
        var bob = await fx.StartPeerAsync("bob");
        await ann.Facade.AddContactAsync(await bob.Facade.CardAsync(default), bob.ListenAddress, default);
        await bob.Facade.AddContactAsync(await ann.Facade.CardAsync(default), ann.ListenAddress, default);
        var ws = await ann.Facade.CreateWorkspaceAsync("Relayed", default);
        await ann.Facade.InviteAsync(ws, (await bob.Facade.InfoAsync(default)).Account, Role.Participant, default);
        await RelayFixture.Eventually(async () => (await bob.Facade.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
        await bob.Facade.AcceptAsync(ws, default);
        await RelayFixture.Eventually(async () => (await bob.Facade.JoinProgressAsync(ws, default)).Complete, "first copy");

        await fx.StopPeerAsync(bob);
        var posted = new List<string>();
        for (var i = 0; i < 20; i++)
            posted.Add(await ann.Facade.CreateEntryAsync(ws, ToolKind.Discussion, new Dictionary<string, string> { ["text"] = $"while bob is away {i}" }, default));
        var annHash = (await ann.Facade.ShowWorkspaceAsync(ws, default)).StateHash;
        await fx.StopPeerAsync(ann);   // waits for the relay to confirm what it holds for bob

        bob = await fx.StartPeerAsync("bob");
        await RelayFixture.Eventually(async () => (await bob.Facade.ShowWorkspaceAsync(ws, default)).StateHash == annHash,
            "bob reaches ann's state from the relay alone");
        var entries = await bob.Facade.EntriesAsync(ws, ToolKind.Discussion, default);
        Assert.All(posted, id => Assert.Contains(entries, e => e.Id == id));
        Assert.True(fx.Relay.Front.Accepted >= 1, "the relay accepted envelopes");
    }
}

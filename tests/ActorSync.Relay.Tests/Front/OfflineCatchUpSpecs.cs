using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;
using Xunit;

namespace ActorSync.Relay.Tests.Front;

/// <summary>
/// Store and forward through a real relay node: the reader catches up while the author is offline,
/// over the relay's gRPC front end, and over its HTTP/1.1 gateway alone (no direct links, no gRPC).
/// </summary>
public class OfflineCatchUpSpecs
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Member_should_catch_up_through_the_relay_while_the_author_is_offline(bool httpOnly)
    {
        await using var fx = await RelayFixture.StartAsync(httpOnly);
        var ann = await fx.StartPeerAsync("ann");
        var bob = await fx.StartPeerAsync("bob");
        await ann.Facade.AddContactAsync(await bob.Facade.CardAsync(default), bob.ListenAddress, default);
        await bob.Facade.AddContactAsync(await ann.Facade.CardAsync(default), ann.ListenAddress, default);
        var ws = await ann.Facade.CreateWorkspaceAsync("Relayed", default);
        await ann.Facade.InviteAsync(ws, (await bob.Facade.InfoAsync(default)).Account, Role.Participant, default);
        await RelayFixture.Eventually(async () => (await bob.Facade.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
        await bob.Facade.AcceptAsync(ws, default);
        await RelayFixture.Eventually(async () => (await bob.Facade.JoinProgressAsync(ws, default)).Complete, "first copy");

        var route = httpOnly ? "relay-http" : "direct";
        var bobDevice = (await bob.Facade.InfoAsync(default)).Device;
        var seen = "";
        try
        {
            await RelayFixture.Eventually(async () => (seen = DeviceRow(await ann.Facade.ShowWorkspaceAsync(ws, default), bobDevice).Route) == route,
                $"ann's route to bob is {route}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message} (last seen: {seen})", e);
        }

        await fx.StopPeerAsync(bob);
        var posted = new List<string>();
        for (var i = 0; i < 20; i++)
            posted.Add(await ann.Facade.CreateEntryAsync(ws, ToolKind.Discussion, new Dictionary<string, string> { ["text"] = $"while bob is away {i}" }, default));
        var annHash = (await ann.Facade.ShowWorkspaceAsync(ws, default)).StateHash;
        // `ws show` tells how many of ann's envelopes wait in bob's mailbox (the relay counts them).
        await RelayFixture.Eventually(async () => DeviceRow(await ann.Facade.ShowWorkspaceAsync(ws, default), bobDevice).WaitingAtRelay >= 20,
            "ann's ws show counts her envelopes waiting at the relay for bob");
        await fx.StopPeerAsync(ann);   // waits for the relay to confirm what it holds for bob

        bob = await fx.StartPeerAsync("bob");
        await RelayFixture.Eventually(async () => (await bob.Facade.ShowWorkspaceAsync(ws, default)).StateHash == annHash,
            "bob reaches ann's state from the relay alone");
        var entries = await bob.Facade.EntriesAsync(ws, ToolKind.Discussion, default);
        Assert.All(posted, id => Assert.Contains(entries, e => e.Id == id));
        Assert.True(fx.Relay.Front.Accepted >= 20, "the relay accepted envelopes");

        if (!httpOnly) return;
        // Over the gateway alone, everything between the two goes through bob's mailbox: once ann
        // is back, what she sends is counted waiting and then drained.
        ann = await fx.StartPeerAsync("ann");
        await ann.Facade.CreateEntryAsync(ws, ToolKind.Chat, new Dictionary<string, string> { ["text"] = "back" }, default);
        await RelayFixture.Eventually(async () => DeviceRow(await ann.Facade.ShowWorkspaceAsync(ws, default), bobDevice) is { WaitingAtRelay: 0 },
            "ann's ws show reports nothing waiting for bob once he drained his mailbox");
        Assert.Equal("relay-http", DeviceRow(await ann.Facade.ShowWorkspaceAsync(ws, default), bobDevice).Route);
    }

    private static MemberDeviceView DeviceRow(WorkspaceDetails details, string device) =>
        details.Members.SelectMany(m => m.Devices).Single(d => d.Device == device);
}

using ActorSync.Core.Permissions;
using Xunit;

namespace ActorSync.Relay.Tests.Front;

/// <summary>WAN presence: peers that know each other's cards but no address find each other through their relay and link directly.</summary>
public class WanPresenceSpecs
{
    [Fact]
    public async Task Peers_without_addresses_should_find_each_other_through_the_relay_and_link_directly()
    {
        await using var fx = await RelayFixture.StartAsync();
        var ann = await fx.StartPeerAsync("ann");
        var bob = await fx.StartPeerAsync("bob");
        // Cards only: no --address, no LAN presence (off in the fixture).
        await ann.Facade.AddContactAsync(await bob.Facade.CardAsync(default), null, default);
        await bob.Facade.AddContactAsync(await ann.Facade.CardAsync(default), null, default);

        var ws = await ann.Facade.CreateWorkspaceAsync("Found", default);
        await ann.Facade.InviteAsync(ws, (await bob.Facade.InfoAsync(default)).Account, Role.Participant, default);
        await RelayFixture.Eventually(async () => (await bob.Facade.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
        await bob.Facade.AcceptAsync(ws, default);

        var bobDevice = (await bob.Facade.InfoAsync(default)).Device;
        await RelayFixture.Eventually(async () =>
            (await ann.Facade.ShowWorkspaceAsync(ws, default)).Members.SelectMany(m => m.Devices).Any(d => d.Device == bobDevice && d.Route == "direct"),
            "a direct link from ann to bob, dialed at the address bob published through the relay");
        Assert.Contains(await ann.Facade.ContactsAsync(default), c => c.Presence == "online");
    }
}

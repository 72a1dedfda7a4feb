using ActorSync.Peer.Tests.Actors;
using ActorSync.Peer.Tests.Sync;
using Xunit;

namespace ActorSync.Peer.Tests.Hostile;

/// <summary>
/// Addresses go stale: a contact's old address may now be a plain TCP service, a black hole, or
/// another peer with a different key. Dialing it fails (and is retried) without disturbing the
/// dialing peer, which keeps syncing with its other contacts.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class StaleAddressSpecs
{
    [Fact(Timeout = 300_000)]
    public async Task Peer_should_keep_syncing_while_a_contacts_stale_address_is_a_plain_tcp_listener()
    {
        await using var ws = await SharedWorkspace.StartAsync();
        await using var garbage = new StaleListener(garbage: true);
        await using var silent = new StaleListener(garbage: false);
        using var carol = new RemoteMember("carol");
        using var dave = new RemoteMember("dave");

        await ws.Ann.Api.AddContactAsync(carol.Card.ToText(), garbage.Address, default);
        await ws.Ann.Api.AddContactAsync(dave.Card.ToText(), silent.Address, default);

        // Ann dials both and dials again after each failure (backoff), so the failures are real and repeated.
        await TestPeer.Eventually(() => Task.FromResult(garbage.Accepted >= 3 && silent.Accepted >= 1), "ann dials the stale addresses, again and again");
        await ws.ProveStillServingAsync("dials to plain TCP listeners");
        var contacts = await ws.Ann.Api.ContactsAsync(default);
        Assert.Equal(["bob", "carol", "dave"], contacts.Select(c => c.Name).Order());
        Assert.Equal(garbage.Address, contacts.Single(c => c.Name == "carol").Address);
    }

    [Fact(Timeout = 300_000)]
    public async Task Peer_should_keep_syncing_while_a_contacts_stale_address_is_held_by_a_peer_with_a_different_key()
    {
        await using var ws = await SharedWorkspace.StartAsync();
        await using var eve = await TestPeer.StartAsync("eve");
        await using var proxy = new CountingProxy(eve.Host.ListenAddress!);
        using var carol = new RemoteMember("carol");

        // Carol used to listen where eve listens now: ann expects carol's key and meets eve's.
        await ws.Ann.Api.AddContactAsync(carol.Card.ToText(), proxy.Address, default);
        await TestPeer.Eventually(() => Task.FromResult(proxy.Accepted >= 3), "ann dials the stale address, again and again");
        await ws.ProveStillServingAsync("dials to a peer with a different key");

        // Eve was not disturbed either: she takes commands and accepts a link from a device she knows.
        await using var frank = new RogueDevice("frank");
        await eve.Api.AddContactAsync(frank.Member.Card.ToText(), null, default);
        var link = await frank.DialAsync(eve);
        Assert.False(link.Connection.Closed.IsCompleted);
        Assert.NotEmpty(await eve.Api.CreateWorkspaceAsync("Eve's own", default));
    }
}

using System.Net;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Tests.Shared;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>Presence over the gateway: a device publishes where it takes direct links, others look it up by device id.</summary>
public class GatewayPresenceSpecs
{
    [Fact]
    public async Task Published_presence_should_be_listed_to_others_and_silent_devices_not()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");
        var silent = relay.NewDevice("silent");

        await ann.PublishAsync("127.0.0.1:7001");

        PresenceList list = new();
        await Poll.Until(async () => (list = await bob.LookupAsync(ann.Device.Hex, silent.Hex)).Notices.Count > 0,
            "bob's lookup lists ann online", 30);
        var notice = Assert.Single(list.Notices);
        Assert.Equal(ann.Device.Wire, notice.Device);
        Assert.Equal("127.0.0.1:7001", notice.Address);
        Assert.True(notice.Online);

        // Hex in either case names the same device; a device that never published is never listed.
        Assert.Equal(ann.Device.Wire, Assert.Single((await bob.LookupAsync(ann.Device.Hex.ToLowerInvariant())).Notices).Device);
        Assert.Empty((await bob.LookupAsync(silent.Hex)).Notices);
        Assert.Empty((await bob.LookupAsync(bob.Device.Hex)).Notices);
        Assert.Empty((await bob.LookupAsync()).Notices);
    }

    [Fact]
    public async Task Republished_presence_should_list_the_new_address()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");

        await ann.PublishAsync("127.0.0.1:7001");
        await Poll.Until(async () => (await bob.LookupAsync(ann.Device.Hex)).Notices.Any(n => n.Address == "127.0.0.1:7001"), "ann at 7001", 30);
        await ann.PublishAsync("127.0.0.1:7002");
        await Poll.Until(async () => (await bob.LookupAsync(ann.Device.Hex)).Notices.Any(n => n.Address == "127.0.0.1:7002"), "ann moved to 7002", 30);
        Assert.Single((await bob.LookupAsync(ann.Device.Hex)).Notices);
    }

    [Fact]
    public async Task Bad_presence_requests_should_be_refused_with_400()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");

        (await ann.PostAsync(GatewayContract.Presence, new PresencePublish { Address = new string('a', 257) }))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "address too long");
        (await ann.Client.SendAsync(HttpMethod.Get, $"{GatewayContract.Presence}?device=not-hex", authorization: ann.Authorization))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "device is the hex of a device id", "not hex");
        (await ann.Client.SendAsync(HttpMethod.Get, $"{GatewayContract.Presence}?device={ann.Device.Hex[..^2]}", authorization: ann.Authorization))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "device is the hex of a device id", "one byte short");
    }

    [Fact]
    public async Task Presence_should_run_out_when_its_lease_is_not_renewed()
    {
        var clock = new SteppedClock();
        await using var relay = await GatewayRelay.StartAsync(clock: clock);
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");

        await ann.PublishAsync("127.0.0.1:7001");
        await Poll.Until(async () => (await bob.LookupAsync(ann.Device.Hex)).Notices.Count == 1, "ann listed online", 30);
        clock.Advance(ActorSync.Relay.Gateway.HttpGateway.PresenceLease + TimeSpan.FromSeconds(1));
        await Poll.Until(async () => (await bob.LookupAsync(ann.Device.Hex)).Notices.Count == 0, "ann's lease ran out", 30);

        // Publishing again (the device renews) lists her again.
        await ann.PublishAsync("127.0.0.1:7001");
        await Poll.Until(async () => (await bob.LookupAsync(ann.Device.Hex)).Notices.Count == 1, "ann listed online again", 30);
    }
}

using System.Net;
using ActorSync.Protocol;
using ActorSync.Relay.Gateway;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>
/// Challenges and tokens are good on the node that issued them, and only for their lifetime (on the
/// relay's clock, which the spec moves, so nothing waits an hour).
/// </summary>
public class GatewayTokenSpecs
{
    [Fact]
    public async Task Token_and_challenge_of_another_node_should_be_refused_with_401()
    {
        await using var issuer = await GatewayRelay.StartAsync();
        await using var other = await GatewayRelay.StartAsync();
        var ann = issuer.NewDevice("ann");
        var token = await issuer.Client().SignInAsync(ann);
        var client = other.Client();

        (await client.SendAsync(HttpMethod.Get, GatewayContract.Mailbox + "?wait=0", authorization: GatewayClient.Bearer(token)))
            .ShouldBeRefused(HttpStatusCode.Unauthorized, "sign in first", "a token of another node");
        // Signed for the other node's pin even, the issuer's challenge is no good there.
        var challenge = await issuer.Client().ChallengeAsync();
        (await client.PostAsync(GatewayContract.Login, ann.Login(challenge, other.Address.Pin)))
            .ShouldBeRefused(HttpStatusCode.Unauthorized, "the challenge is stale or not from this relay node", "a challenge of another node");
        // The other node's own challenge works.
        var own = await client.SignInAsync(ann);
        (await client.SendAsync(HttpMethod.Get, GatewayContract.Mailbox + "?wait=0", authorization: GatewayClient.Bearer(own))).ShouldBeOk();
    }

    [Fact]
    public async Task Stale_challenge_and_expired_token_should_be_refused_with_401()
    {
        var clock = new SteppedClock();
        await using var relay = await GatewayRelay.StartAsync(clock: clock);
        var client = relay.Client();
        var ann = relay.NewDevice("ann");

        var challenge = await client.ChallengeAsync();
        clock.Advance(GatewayTokens.ChallengeLifetime + TimeSpan.FromSeconds(1));
        (await client.PostAsync(GatewayContract.Login, ann.Login(challenge, relay.Address.Pin)))
            .ShouldBeRefused(HttpStatusCode.Unauthorized, "the challenge is stale", "a challenge older than its lifetime");

        var token = await client.SignInAsync(ann);
        (await client.SendAsync(HttpMethod.Get, GatewayContract.Mailbox + "?wait=0", authorization: GatewayClient.Bearer(token))).ShouldBeOk();
        clock.Advance(GatewayTokens.TokenLifetime + TimeSpan.FromSeconds(1));
        (await client.SendAsync(HttpMethod.Get, GatewayContract.Mailbox + "?wait=0", authorization: GatewayClient.Bearer(token)))
            .ShouldBeRefused(HttpStatusCode.Unauthorized, "sign in first", "a token older than its lifetime");

        // Signing in again gives a token that works.
        var renewed = await client.SignInAsync(ann);
        (await client.SendAsync(HttpMethod.Get, GatewayContract.Mailbox + "?wait=0", authorization: GatewayClient.Bearer(renewed))).ShouldBeOk();
    }
}

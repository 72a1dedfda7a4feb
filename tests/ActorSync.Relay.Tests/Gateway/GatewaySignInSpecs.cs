using System.Net;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Gateway;
using ActorSync.Tests.Shared;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>
/// The gateway's happy path over real TLS and HTTP/1.1: sign in by signing a challenge, enqueue,
/// long-poll the mailbox, acknowledge, and the mailbox is empty afterwards.
/// </summary>
public class GatewaySignInSpecs
{
    [Fact]
    public async Task Signed_in_devices_should_enqueue_poll_and_acknowledge_an_envelope()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var client = relay.Client();

        // Sign in by hand once, to see every step on the wire.
        var annDevice = relay.NewDevice("ann");
        var challenge = await client.ChallengeAsync();
        Assert.Equal(56, challenge.Length);
        Assert.NotEqual(challenge, await client.ChallengeAsync());
        var login = await client.PostAsync(GatewayContract.Login, annDevice.Login(challenge, relay.Address.Pin));
        Assert.Equal(HttpVersion.Version11, login.Version);
        var session = login.Message(GatewaySession.Parser);
        Assert.False(string.IsNullOrWhiteSpace(session.Token));
        Assert.Equal((uint)GatewayTokens.TokenLifetime.TotalSeconds, session.ExpiresInSeconds);
        var ann = new GatewayUser(annDevice, client, session.Token);
        var bob = await relay.SignInAsync("bob");

        var sent = GatewayMail.To(bob.Device);
        var accepted = Assert.Single((await ann.EnqueueAsync(sent)).Accepted);
        Assert.Equal(sent.MessageId, accepted.MessageId);
        Assert.Equal("", accepted.Error);

        var got = Assert.Single((await bob.PollAsync(5)).Envelopes);
        Assert.Equal(sent.MessageId, got.MessageId);
        Assert.Equal(ann.Device.Wire, got.Sender);
        Assert.Equal(sent.Payload, got.Payload);

        await bob.DeliveredAsync([got.MessageId]);
        Assert.Empty((await bob.PollAsync(1)).Envelopes);
    }

    [Fact]
    public async Task Waiting_long_poll_should_answer_as_soon_as_an_envelope_arrives()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");

        // The longest wait: if the arrival did not wake the poll, it would answer empty 30 s later.
        var poll = bob.PollReplyAsync(GatewayContract.MaxWaitSeconds);
        await Poll.Until(() => relay.IsAttachedAsync(bob.Device.Id), "bob's long poll waits at his mailbox", 30);
        var sent = GatewayMail.To(bob.Device);
        await ann.EnqueueAcceptedAsync(sent);

        var answer = await poll.WaitAsync(TimeSpan.FromSeconds(GatewayContract.MaxWaitSeconds / 2));
        var got = Assert.Single(answer.Message(EnvelopeBatch.Parser).Envelopes);
        Assert.Equal(sent.MessageId, got.MessageId);
        Assert.Equal(ann.Device.Wire, got.Sender);
        Assert.Equal(sent.Payload, got.Payload);
    }

    [Fact]
    public async Task Gateway_should_speak_HTTP_1_1_only()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var client = relay.Client();
        (await client.SendAsync(HttpMethod.Post, GatewayContract.Challenge)).ShouldBeOk();
        // A client that insists on HTTP/2 finds no HTTP/2 here (ALPN offers http/1.1 only).
        await Assert.ThrowsAsync<HttpRequestException>(() => client.SendAsync(HttpMethod.Post, GatewayContract.Challenge, version: HttpVersion.Version20));
    }
}

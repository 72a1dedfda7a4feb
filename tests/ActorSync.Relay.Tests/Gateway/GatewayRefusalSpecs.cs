using System.Net;
using System.Security.Cryptography;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Front;
using Google.Protobuf;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>
/// One relay node shared by the refusal specs, with a small frame limit (64 KiB, so bodies over
/// the limit stay small), to show that no refusal leaves it unable to serve the next device.
/// </summary>
public sealed class GatewayRefusalRelay : IAsyncLifetime
{
    public const int MaxFrameBytes = 64 * 1024;

    /// <summary>What the gateway takes as one request body: a frame and its envelope.</summary>
    public const int MaxBody = MaxFrameBytes + 64 * 1024;

    internal GatewayRelay Relay { get; private set; } = null!;

    public async Task InitializeAsync() => Relay = await GatewayRelay.StartAsync($"actorsync.relay.front.max-frame-bytes = {MaxFrameBytes}");

    public async Task DisposeAsync() => await Relay.DisposeAsync();
}

/// <summary>
/// Everything the gateway refuses, each with a clear status and one plain-text line, and the node
/// still serving a correct sign-in and enqueue after each of them.
/// </summary>
public class GatewayRefusalSpecs : IClassFixture<GatewayRefusalRelay>
{
    /// <summary>A length-delimited field 1 that claims 127 bytes and has none: no protobuf parser takes it.</summary>
    private static readonly byte[] Malformed = [0x0A, 0x7F];

    private readonly GatewayRelay _relay;

    public GatewayRefusalSpecs(GatewayRefusalRelay fixture) => _relay = fixture.Relay;

    [Fact]
    public async Task Requests_without_a_valid_token_should_be_refused_with_401_on_every_route()
    {
        var bob = await _relay.SignInAsync("bob");
        var token = bob.Token;
        var tampered = token[..10] + (token[10] == 'A' ? 'B' : 'A') + token[11..];
        var authorizations = new (string What, string? Header)[]
        {
            ("no token", null),
            ("a garbage token", "Bearer not-a-token"),
            ("a token with one character changed", GatewayClient.Bearer(tampered)),
            ("a token under another scheme", "Basic " + token),
            ("a token without its scheme", token),
            ("an overlong token", GatewayClient.Bearer(new string('A', 4096))),
        };
        var client = _relay.Client();
        foreach (var (what, header) in authorizations)
        {
            foreach (var (route, send) in Routes(bob.Device))
            {
                var reply = await send(client, header);
                reply.ShouldBeRefused(HttpStatusCode.Unauthorized, "sign in first", $"{route} with {what}");
            }
        }

        // None of those enqueues was stored: bob's mailbox has nothing for him.
        Assert.Empty((await bob.PollAsync(1)).Envelopes);
        await RelayShouldStillServe();
    }

    [Fact]
    public async Task Login_not_signed_by_the_devices_own_key_should_be_refused_with_401()
    {
        var client = _relay.Client();
        var ann = _relay.NewDevice("ann");
        var mallory = _relay.NewDevice("mallory");

        var challenge = await client.ChallengeAsync();
        (await client.PostAsync(GatewayContract.Login, ann.Login(challenge, _relay.Address.Pin, signer: mallory.Identity.Signing)))
            .ShouldBeRefused(HttpStatusCode.Unauthorized, "the signature is not the device's", "signed by another key");

        // The device's own key, but over another relay's pin: a signature is good at one relay only.
        challenge = await client.ChallengeAsync();
        (await client.PostAsync(GatewayContract.Login, ann.Login(challenge, RandomNumberGenerator.GetBytes(32))))
            .ShouldBeRefused(HttpStatusCode.Unauthorized, "the signature is not the device's", "signed for another relay");

        var truncated = ann.Login(await client.ChallengeAsync(), _relay.Address.Pin);
        truncated.Signature = ByteString.CopyFrom(truncated.Signature.Span[..^1]);
        (await client.PostAsync(GatewayContract.Login, truncated))
            .ShouldBeRefused(HttpStatusCode.Unauthorized, "the signature is not the device's", "a signature one byte short");

        await RelayShouldStillServe();
    }

    [Fact]
    public async Task Login_with_a_challenge_this_node_did_not_issue_should_be_refused_with_401()
    {
        var client = _relay.Client();
        var ann = _relay.NewDevice("ann");
        var genuine = await client.ChallengeAsync();
        var flipped = (byte[])genuine.Clone();
        flipped[20] ^= 0x01;
        var challenges = new (string What, byte[] Challenge)[]
        {
            ("random 56 bytes", RandomNumberGenerator.GetBytes(genuine.Length)),
            ("a genuine challenge with one bit flipped", flipped),
            ("a genuine challenge cut short", genuine[..^1]),
            ("no challenge", []),
        };
        foreach (var (what, challenge) in challenges)
        {
            // Correctly signed: only the challenge is wrong.
            (await client.PostAsync(GatewayContract.Login, ann.Login(challenge, _relay.Address.Pin)))
                .ShouldBeRefused(HttpStatusCode.Unauthorized, "the challenge is stale or not from this relay node", what);
        }

        await RelayShouldStillServe();
    }

    [Fact]
    public async Task Login_for_a_device_not_on_the_card_should_be_refused_with_400()
    {
        var client = _relay.Client();
        var ann = _relay.NewDevice("ann");
        var stranger = _relay.NewDevice("stranger");

        // The stranger signs correctly with its own key, but presents ann's card.
        var login = stranger.Login(await client.ChallengeAsync(), _relay.Address.Pin);
        login.Card = ByteString.CopyFrom(ann.Card.Encoded);
        (await client.PostAsync(GatewayContract.Login, login))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "the device is not on the card", "a device not on the card");

        var garbageCard = ann.Login(await client.ChallengeAsync(), _relay.Address.Pin);
        garbageCard.Card = ByteString.CopyFromUtf8("not a card");
        (await client.PostAsync(GatewayContract.Login, garbageCard))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "bad login", "a card that is not a card");

        var shortDevice = ann.Login(await client.ChallengeAsync(), _relay.Address.Pin);
        shortDevice.Device = ByteString.CopyFrom(1, 2, 3);
        (await client.PostAsync(GatewayContract.Login, shortDevice))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "bad login", "a device id of 3 bytes");

        await RelayShouldStillServe();
    }

    [Fact]
    public async Task Malformed_protobuf_bodies_should_be_refused_with_400()
    {
        var bob = await _relay.SignInAsync("bob");
        var client = _relay.Client();
        (await client.SendAsync(HttpMethod.Post, GatewayContract.Login, GatewayClient.Bytes(Malformed)))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "the body is not a GatewayLogin message", "login");
        var routes = new (string Path, string Message)[]
        {
            (GatewayContract.Enqueue, nameof(EnqueueBatch)),
            (GatewayContract.Delivered, nameof(Delivered)),
            (GatewayContract.Pending, nameof(PendingQuery)),
            (GatewayContract.Presence, nameof(PresencePublish)),
        };
        foreach (var (path, message) in routes)
        {
            (await client.SendAsync(HttpMethod.Post, path, GatewayClient.Bytes(Malformed), bob.Authorization))
                .ShouldBeRefused(HttpStatusCode.BadRequest, $"the body is not a {message} message", path);
        }

        await RelayShouldStillServe();
    }

    [Fact]
    public async Task Bodies_over_the_frame_limit_should_be_refused_with_413()
    {
        var ann = await _relay.SignInAsync("ann");
        var bob = await _relay.SignInAsync("bob");
        var tooLarge = RandomNumberGenerator.GetBytes(GatewayRefusalRelay.MaxBody + 1);
        var limit = $"a request body is at most {GatewayRefusalRelay.MaxBody} bytes";

        // Announced by Content-Length, and streamed chunked (the size is only known while reading).
        (await ann.Client.SendAsync(HttpMethod.Post, GatewayContract.Enqueue, GatewayClient.Bytes(tooLarge), ann.Authorization))
            .ShouldBeRefused(HttpStatusCode.RequestEntityTooLarge, limit, "enqueue with Content-Length");
        (await ann.Client.SendAsync(HttpMethod.Post, GatewayContract.Enqueue, new UnsizedContent(tooLarge), ann.Authorization))
            .ShouldBeRefused(HttpStatusCode.RequestEntityTooLarge, limit, "enqueue sent chunked");
        (await ann.Client.SendAsync(HttpMethod.Post, GatewayContract.Login, GatewayClient.Bytes(tooLarge)))
            .ShouldBeRefused(HttpStatusCode.RequestEntityTooLarge, limit, "login");
        (await ann.Client.SendAsync(HttpMethod.Post, GatewayContract.Delivered, new UnsizedContent(tooLarge), ann.Authorization))
            .ShouldBeRefused(HttpStatusCode.RequestEntityTooLarge, limit, "delivered sent chunked");

        // Within the body limit, a payload of exactly one frame is stored and one byte more is refused by its entry.
        var fits = GatewayMail.To(bob.Device, GatewayRefusalRelay.MaxFrameBytes);
        var over = GatewayMail.To(bob.Device, GatewayRefusalRelay.MaxFrameBytes + 1);
        Assert.Equal("", Assert.Single((await ann.EnqueueAsync(fits)).Accepted).Error);
        Assert.Contains("too large", Assert.Single((await ann.EnqueueAsync(over)).Accepted).Error, StringComparison.Ordinal);
        var got = Assert.Single((await bob.PollAsync(5)).Envelopes);
        Assert.Equal(fits.MessageId, got.MessageId);
        Assert.Equal(fits.Payload, got.Payload);
        await bob.DeliveredAsync([got.MessageId]);

        await RelayShouldStillServe();
    }

    [Fact]
    public async Task Pending_queries_and_acknowledgements_beyond_their_limits_should_be_refused_with_400()
    {
        var ann = await _relay.SignInAsync("ann");
        var bob = await _relay.SignInAsync("bob");

        var shortDevice = new PendingQuery { Query = 1, Devices = { bob.Device.Wire, ByteString.CopyFrom(1, 2, 3) } };
        (await ann.PostAsync(GatewayContract.Pending, shortDevice))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "bad pending query", "a device id of 3 bytes");
        var tooMany = new PendingQuery { Query = 2 };
        tooMany.Devices.AddRange(Enumerable.Range(0, MailboxDesk.MaxPendingDevices + 1).Select(_ => bob.Device.Wire));
        (await ann.PostAsync(GatewayContract.Pending, tooMany))
            .ShouldBeRefused(HttpStatusCode.BadRequest, $"at most {MailboxDesk.MaxPendingDevices} devices", "one device too many");

        var sent = GatewayMail.To(bob.Device);
        await ann.EnqueueAcceptedAsync(sent);
        var tooManyIds = new Delivered();
        // Ids of one byte keep the body within this node's small body limit: the count is what is refused.
        tooManyIds.MessageIds.AddRange(Enumerable.Range(0, MailboxDesk.MaxIdsPerRequest).Select(i => ByteString.CopyFrom((byte)i)));
        tooManyIds.MessageIds.Add(sent.MessageId);
        (await bob.PostAsync(GatewayContract.Delivered, tooManyIds))
            .ShouldBeRefused(HttpStatusCode.BadRequest, "too many ids", "one id too many");
        // Refused as a whole: the envelope it named is still there.
        Assert.Equal(sent.MessageId, Assert.Single((await bob.PollAsync(5)).Envelopes).MessageId);
        await bob.DeliveredAsync([sent.MessageId]);

        await RelayShouldStillServe();
    }

    [Theory]
    [InlineData("99")]
    [InlineData("31")]
    [InlineData("-1")]
    [InlineData("soon")]
    [InlineData("")]
    public async Task Long_poll_with_a_wait_out_of_range_should_be_refused_with_400(string wait)
    {
        var bob = await _relay.SignInAsync("bob");
        (await bob.Client.SendAsync(HttpMethod.Get, $"{GatewayContract.Mailbox}?wait={wait}", authorization: bob.Authorization))
            .ShouldBeRefused(HttpStatusCode.BadRequest, $"wait is 0 to {GatewayContract.MaxWaitSeconds} seconds", $"wait={wait}");

        await RelayShouldStillServe();
    }

    [Fact]
    public async Task Enqueue_with_a_bad_entry_should_refuse_that_entry_and_store_the_others()
    {
        var ann = await _relay.SignInAsync("ann");
        var bob = await _relay.SignInAsync("bob");

        var shortId = GatewayMail.To(bob.Device);
        shortId.MessageId = ByteString.CopyFrom(1, 2, 3);
        var noRecipient = GatewayMail.To(bob.Device);
        noRecipient.Recipients.Clear();
        var badRecipient = GatewayMail.To(bob.Device);
        badRecipient.Recipients[0] = ByteString.CopyFrom(1, 2, 3);
        var good = GatewayMail.To(bob.Device);

        var answers = (await ann.EnqueueAsync(shortId, noRecipient, badRecipient, good)).Accepted;
        Assert.Contains("message id", answers[0].Error, StringComparison.Ordinal);
        Assert.Contains("recipients", answers[1].Error, StringComparison.Ordinal);
        Assert.Contains("device id", answers[2].Error, StringComparison.Ordinal);
        Assert.Equal("", answers[3].Error);

        var got = Assert.Single((await bob.PollAsync(5)).Envelopes);
        Assert.Equal(good.MessageId, got.MessageId);
        await bob.DeliveredAsync([got.MessageId]);

        // A batch holds 1 to MaxEnqueuesPerBatch enqueues.
        (await ann.PostAsync(GatewayContract.Enqueue, new EnqueueBatch()))
            .ShouldBeRefused(HttpStatusCode.BadRequest, $"1 to {GatewayContract.MaxEnqueuesPerBatch} enqueues per request", "an empty batch");
        var tooMany = new EnqueueBatch();
        tooMany.Enqueues.AddRange(Enumerable.Range(0, GatewayContract.MaxEnqueuesPerBatch + 1).Select(_ => GatewayMail.To(bob.Device, 1)));
        (await ann.PostAsync(GatewayContract.Enqueue, tooMany))
            .ShouldBeRefused(HttpStatusCode.BadRequest, $"1 to {GatewayContract.MaxEnqueuesPerBatch} enqueues per request", "a batch one too large");
        Assert.Empty((await bob.PollAsync(1)).Envelopes);

        await RelayShouldStillServe();
    }

    /// <summary>A new pair of devices signs in, and an envelope goes from one to the other.</summary>
    private async Task RelayShouldStillServe()
    {
        var ann = await _relay.SignInAsync("ann-after");
        var bob = await _relay.SignInAsync("bob-after");
        var sent = GatewayMail.To(bob.Device);
        await ann.EnqueueAcceptedAsync(sent);
        var got = Assert.Single((await bob.PollAsync(5)).Envelopes);
        Assert.Equal(sent.MessageId, got.MessageId);
        Assert.Equal(ann.Device.Wire, got.Sender);
        await bob.DeliveredAsync([got.MessageId]);
    }

    /// <summary>Every authenticated route, with a well-formed request for <paramref name="bob"/>.</summary>
    private static IEnumerable<(string Route, Func<GatewayClient, string?, Task<GatewayReply>> Send)> Routes(GatewayDevice bob)
    {
        var enqueue = new EnqueueBatch { Enqueues = { GatewayMail.To(bob) } };
        var delivered = new Delivered { MessageIds = { enqueue.Enqueues[0].MessageId } };
        var pending = new PendingQuery { Query = 1, Devices = { bob.Wire } };
        var publish = new PresencePublish { Address = "127.0.0.1:7001" };
        yield return ("POST enqueue", (c, a) => c.PostAsync(GatewayContract.Enqueue, enqueue, a));
        yield return ("GET mailbox", (c, a) => c.SendAsync(HttpMethod.Get, GatewayContract.Mailbox + "?wait=0", authorization: a));
        yield return ("POST delivered", (c, a) => c.PostAsync(GatewayContract.Delivered, delivered, a));
        yield return ("POST pending", (c, a) => c.PostAsync(GatewayContract.Pending, pending, a));
        yield return ("POST presence", (c, a) => c.PostAsync(GatewayContract.Presence, publish, a));
        yield return ("GET presence", (c, a) => c.SendAsync(HttpMethod.Get, $"{GatewayContract.Presence}?device={bob.Hex}", authorization: a));
    }

    /// <summary>A body sent without Content-Length (chunked), so the relay learns its size only by reading it.</summary>
    private sealed class UnsizedContent : HttpContent
    {
        private readonly byte[] _bytes;

        public UnsizedContent(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(GatewayContract.ContentType);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

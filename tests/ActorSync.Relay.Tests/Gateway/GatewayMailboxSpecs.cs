using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Gateway;
using ActorSync.Tests.Shared;
using Google.Protobuf;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>
/// The mailbox side of the gateway: a token drains its own device's mailbox and nobody else's, a
/// long poll hands out one delivery window at a time, and a sender can count what still waits.
/// </summary>
public class GatewayMailboxSpecs
{
    [Fact]
    public async Task Token_should_drain_only_its_own_devices_mailbox()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");
        var carol = await relay.SignInAsync("carol");

        var forAnn = new[] { GatewayMail.To(ann.Device), GatewayMail.To(ann.Device) };
        var forBob = new[] { GatewayMail.To(bob.Device), GatewayMail.To(bob.Device), GatewayMail.To(bob.Device) };
        await carol.EnqueueAcceptedAsync([.. forAnn, .. forBob]);
        var annForBob = GatewayMail.To(bob.Device);
        await ann.EnqueueAcceptedAsync(annForBob);   // what ann sends bob is bob's, not hers

        var annGot = await DrainAsync(ann, forAnn.Length);
        Assert.Equal(Ids(forAnn), annGot.Select(e => e.MessageId).ToHashSet());
        Assert.All(annGot, e => Assert.Equal(carol.Device.Wire, e.Sender));
        // Acknowledging bob's ids with ann's token removes nothing from bob's mailbox (he gets all four below).
        await ann.DeliveredAsync(forBob.Select(e => e.MessageId));
        await ann.DeliveredAsync(annGot.Select(e => e.MessageId));
        Assert.Empty((await ann.PollAsync(1)).Envelopes);
        // Naming bob's device in the query changes nothing: the token says whose mailbox it is.
        Assert.Empty((await ann.Client.SendAsync(HttpMethod.Get, $"{GatewayContract.Mailbox}?wait=1&device={bob.Device.Hex}", authorization: ann.Authorization))
            .Message(EnvelopeBatch.Parser).Envelopes);

        var bobGot = await DrainAsync(bob, forBob.Length + 1);
        Assert.Equal(Ids([.. forBob, annForBob]), bobGot.Select(e => e.MessageId).ToHashSet());
    }

    [Fact]
    public async Task Long_poll_should_hand_out_at_most_one_window_and_the_rest_after_acknowledgement()
    {
        const int total = 600;
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");

        var sent = Enumerable.Range(0, total).Select(_ => GatewayMail.To(bob.Device, 32)).ToList();
        foreach (var batch in sent.Chunk(250)) await ann.EnqueueAcceptedAsync(batch);

        var first = (await bob.PollAsync(5)).Envelopes;
        Assert.Equal(HttpGateway.MaxBatchEnvelopes, first.Count);
        await bob.DeliveredAsync(first.Select(e => e.MessageId));

        var second = (await bob.PollAsync(5)).Envelopes;
        Assert.Equal(total - HttpGateway.MaxBatchEnvelopes, second.Count);
        await bob.DeliveredAsync(second.Select(e => e.MessageId));

        var seen = first.Concat(second).Select(e => e.MessageId).ToList();
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(Ids(sent), seen.ToHashSet());
        Assert.All(first.Concat(second), e => Assert.Equal(ann.Device.Wire, e.Sender));
        Assert.Empty((await bob.PollAsync(1)).Envelopes);
    }

    [Fact]
    public async Task Long_poll_answer_should_stay_within_one_frame_and_leave_the_rest_for_the_next_poll()
    {
        const int frame = 64 * 1024;
        await using var relay = await GatewayRelay.StartAsync($"actorsync.relay.front.max-frame-bytes = {frame}");
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");

        // Three payloads of 40% of a frame: two fit in one answer, the third waits for the next poll.
        var sent = Enumerable.Range(0, 3).Select(_ => GatewayMail.To(bob.Device, frame * 2 / 5)).ToList();
        foreach (var enqueue in sent) await ann.EnqueueAcceptedAsync(enqueue);

        var first = (await bob.PollAsync(5)).Envelopes;
        Assert.Equal(2, first.Count);
        Assert.True(first.Sum(e => e.Payload.Length) <= frame);
        await bob.DeliveredAsync(first.Select(e => e.MessageId));
        var second = (await bob.PollAsync(5)).Envelopes;
        Assert.Single(second);
        Assert.Equal(Ids(sent), first.Concat(second).Select(e => e.MessageId).ToHashSet());
    }

    [Fact]
    public async Task Poll_the_device_hung_up_on_should_leave_its_envelopes_in_the_mailbox()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");

        using (var hangUp = new CancellationTokenSource())
        {
            var abandoned = bob.PollReplyAsync(GatewayContract.MaxWaitSeconds, hangUp.Token);
            await Poll.Until(() => relay.IsAttachedAsync(bob.Device.Id), "bob's long poll waits at his mailbox", 30);
            await hangUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        }
        // Well before the abandoned poll's own wait is over: the hang-up itself ends it.
        await Poll.Until(async () => !await relay.IsAttachedAsync(bob.Device.Id), "the abandoned poll let go of bob's mailbox",
            GatewayContract.MaxWaitSeconds / 3);

        var sent = GatewayMail.To(bob.Device);
        await ann.EnqueueAcceptedAsync(sent);
        Assert.Equal(sent.MessageId, Assert.Single((await bob.PollAsync(5)).Envelopes).MessageId);
    }

    [Fact]
    public async Task Retried_enqueue_should_be_accepted_again_and_delivered_once()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");

        // A device that heard no answer sends the same envelope again, in a later batch or twice in one.
        var sent = GatewayMail.To(bob.Device);
        await ann.EnqueueAcceptedAsync(sent);
        await ann.EnqueueAcceptedAsync(sent);
        var twice = GatewayMail.To(bob.Device);
        await ann.EnqueueAcceptedAsync(twice, twice);

        var got = await DrainAsync(bob, 2);
        Assert.Equal(Ids([sent, twice]), got.Select(e => e.MessageId).ToHashSet());
        Assert.Equal([2], (await ann.PendingAsync(1, bob.Device)).Counts);
        // Stored once each: with nothing acknowledged, a further poll hands out two envelopes, not four.
        Assert.Equal(2, (await bob.PollAsync(1)).Envelopes.Count);
    }

    [Fact]
    public async Task Pending_counts_should_count_the_askers_own_envelopes_until_they_are_acknowledged()
    {
        await using var relay = await GatewayRelay.StartAsync();
        var ann = await relay.SignInAsync("ann");
        var bob = await relay.SignInAsync("bob");
        var carol = await relay.SignInAsync("carol");

        var sent = new[] { GatewayMail.To(bob.Device), GatewayMail.To(bob.Device), GatewayMail.To(bob.Device) };
        await ann.EnqueueAcceptedAsync(sent);
        // Accepted means stored: the count is exact at once.
        Assert.Equal([3], (await ann.PendingAsync(7, bob.Device)).Counts);
        Assert.Equal([0], (await carol.PendingAsync(8, bob.Device)).Counts);

        var got = await DrainAsync(bob, sent.Length);
        Assert.Equal(Ids(sent), got.Select(e => e.MessageId).ToHashSet());
        // Polled is not delivered: only the acknowledgement removes them.
        Assert.Equal([3], (await ann.PendingAsync(9, bob.Device)).Counts);
        await bob.DeliveredAsync(got.Select(e => e.MessageId));
        await Poll.Until(async () => (await ann.PendingAsync(10, bob.Device)).Counts.SequenceEqual([0]), "ann's envelopes for bob counted 0 once acknowledged", 30);

        // Carol's count is of her own envelopes only, and one per device asked, in order.
        var fromCarol = GatewayMail.To(bob.Device);
        await carol.EnqueueAcceptedAsync(fromCarol);
        await ann.EnqueueAcceptedAsync(GatewayMail.To(bob.Device), GatewayMail.To(carol.Device));
        Assert.Equal([1, 0], (await carol.PendingAsync(11, bob.Device, ann.Device)).Counts);
        Assert.Equal([1, 1], (await ann.PendingAsync(12, bob.Device, carol.Device)).Counts);
    }

    /// <summary>Polls until <paramref name="count"/> envelopes came (a poll may answer with part of a burst), without acknowledging them.</summary>
    private static async Task<List<Envelope>> DrainAsync(GatewayUser user, int count)
    {
        var got = new Dictionary<ByteString, Envelope>();
        await Poll.Until(async () =>
        {
            foreach (var e in (await user.PollAsync(5)).Envelopes) got.TryAdd(e.MessageId, e);
            return got.Count >= count;
        }, $"{count} envelopes for {user.Device.Account.Name}", 30);
        Assert.Equal(count, got.Count);
        return [.. got.Values];
    }

    private static HashSet<ByteString> Ids(IEnumerable<Enqueue> sent) => sent.Select(e => e.MessageId).ToHashSet();
}

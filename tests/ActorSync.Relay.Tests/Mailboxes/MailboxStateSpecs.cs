using ActorSync.Core.Identity;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Mailboxes;
using CsCheck;
using Google.Protobuf;
using Xunit;

namespace ActorSync.Relay.Tests.Mailboxes;

/// <summary>
/// The pure <see cref="MailboxState"/>, without an ActorSystem: decisions on single stores, and
/// properties of any sequence of store, deliver and expire (no duplicates, a removed id not
/// stored again while remembered, quotas never exceeded, acceptance order kept, replay of the
/// events gives the same state).
/// </summary>
public sealed class MailboxStateSpecs
{
    private static readonly DeviceId Ann = Mail.NewDevice();
    private static readonly DeviceId Bob = Mail.NewDevice();
    private static readonly TimeSpan Dormancy = TimeSpan.FromDays(21);

    private static ByteString Id(int n)
    {
        var bytes = new byte[EnvelopeId.Size];
        bytes[0] = 0x5A;
        bytes[15] = (byte)n;
        bytes[14] = (byte)(n >> 8);
        return ByteString.CopyFrom(bytes);
    }

    private static MailboxStore Store(ByteString id, int size) =>
        Mail.Store(Ann, Bob, id, ByteString.CopyFrom(new byte[size]));

    /// <summary>Decides and, when it is a store, applies: what the actor does once the event is durable.</summary>
    private static MailboxDecision Accept(MailboxState state, MailboxStore store, DateTimeOffset now)
    {
        var decision = state.Decide(store, now);
        if (decision is MailboxDecision.Store s) state.Apply(s.Event);
        return decision;
    }

    // ---- single decisions --------------------------------------------------------------------

    [Fact]
    public void Decide_of_a_batch_sees_the_earlier_stores_of_the_batch_and_changes_nothing()
    {
        var state = new MailboxState(maxEnvelopes: 3, maxBytes: 100, rememberRemoved: 10);
        Accept(state, Store(Id(1), 10), Mail.Start);
        var decisions = state.Decide([Store(Id(2), 10), Store(Id(2), 10), Store(Id(1), 10), Store(Id(3), 10), Store(Id(4), 10)], Mail.Start);

        Assert.IsType<MailboxDecision.Store>(decisions[0]);
        Assert.IsType<MailboxDecision.Duplicate>(decisions[1]); // of the batch's own first store
        Assert.IsType<MailboxDecision.Duplicate>(decisions[2]); // of a held envelope
        Assert.IsType<MailboxDecision.Store>(decisions[3]);
        Assert.Contains("(3 of 3 envelopes held)", Assert.IsType<MailboxDecision.Refused>(decisions[4]).Error);
        // Deciding is not storing: until the events are applied the state is as it was.
        Assert.Equal((1, 10L), (state.Count, state.Bytes));
        Assert.IsType<MailboxDecision.Store>(state.Decide(Store(Id(2), 10), Mail.Start));
    }

    [Fact]
    public void Decide_of_a_batch_counts_bytes_across_the_batch()
    {
        var state = new MailboxState(maxEnvelopes: 10, maxBytes: 100, rememberRemoved: 10);
        var decisions = state.Decide([Store(Id(1), 60), Store(Id(2), 50), Store(Id(3), 40)], Mail.Start);
        Assert.IsType<MailboxDecision.Store>(decisions[0]);
        Assert.Contains("(60 of 100 bytes held, 50 more do not fit)", Assert.IsType<MailboxDecision.Refused>(decisions[1]).Error);
        Assert.IsType<MailboxDecision.Store>(decisions[2]);
    }

    [Fact]
    public void MailboxState_should_store_a_new_envelope_with_its_acceptance_time()
    {
        var state = new MailboxState(10, 1000, 10);
        var decision = Assert.IsType<MailboxDecision.Store>(state.Decide(Store(Id(1), 7), Mail.Start));
        Assert.Equal(Id(1), decision.Event.MessageId);
        Assert.Equal(Bob.ToWire(), decision.Event.Sender);
        Assert.Equal(7, decision.Event.Payload.Length);
        Assert.Equal(Mail.Start.ToUnixTimeMilliseconds(), decision.Event.AcceptedAtMs);
        Assert.True(state.IsEmpty); // deciding changes nothing; only Apply does
        state.Apply(decision.Event);
        Assert.Equal(1, state.Count);
        Assert.Equal(7, state.Bytes);
    }

    [Fact]
    public void MailboxState_should_call_a_held_id_a_duplicate_even_when_full()
    {
        var state = new MailboxState(1, 1000, 10);
        Accept(state, Store(Id(1), 5), Mail.Start);
        Assert.IsType<MailboxDecision.Duplicate>(state.Decide(Store(Id(1), 5), Mail.Start));
        Assert.IsType<MailboxDecision.Refused>(state.Decide(Store(Id(2), 5), Mail.Start));
    }

    [Fact]
    public void MailboxState_should_call_a_delivered_id_a_duplicate_while_it_is_remembered()
    {
        var state = new MailboxState(10, 1000, rememberRemoved: 2);
        for (var i = 1; i <= 3; i++) Accept(state, Store(Id(i), 1), Mail.Start);
        state.Apply(state.Delivered([Id(1)])!);
        Assert.True(state.Remembers(EnvelopeId.From(Id(1))));
        Assert.IsType<MailboxDecision.Duplicate>(state.Decide(Store(Id(1), 1), Mail.Start));

        // The memory is bounded: two more removals push id 1 out, and it could be stored again.
        state.Apply(state.Delivered([Id(2), Id(3)])!);
        Assert.Equal(2, state.RememberedCount);
        Assert.False(state.Remembers(EnvelopeId.From(Id(1))));
        Assert.IsType<MailboxDecision.Store>(state.Decide(Store(Id(1), 1), Mail.Start));
        Assert.IsType<MailboxDecision.Duplicate>(state.Decide(Store(Id(3), 1), Mail.Start));
    }

    [Fact]
    public void MailboxState_should_refuse_with_a_clear_quota_error_by_count_and_by_bytes()
    {
        var byCount = new MailboxState(2, 1000, 10);
        Accept(byCount, Store(Id(1), 1), Mail.Start);
        Accept(byCount, Store(Id(2), 1), Mail.Start);
        var full = Assert.IsType<MailboxDecision.Refused>(byCount.Decide(Store(Id(3), 1), Mail.Start));
        Assert.Equal("quota: the recipient's mailbox is full (2 of 2 envelopes held); retry later", full.Error);

        var byBytes = new MailboxState(10, 100, 10);
        Accept(byBytes, Store(Id(1), 60), Mail.Start);
        var bytes = Assert.IsType<MailboxDecision.Refused>(byBytes.Decide(Store(Id(2), 41), Mail.Start));
        Assert.Equal("quota: the recipient's mailbox is full (60 of 100 bytes held, 41 more do not fit); retry later", bytes.Error);
        Assert.IsType<MailboxDecision.Store>(byBytes.Decide(Store(Id(2), 40), Mail.Start));

        var huge = Assert.IsType<MailboxDecision.Refused>(byBytes.Decide(Store(Id(3), 101), Mail.Start));
        Assert.Equal("quota: an envelope of 101 bytes is larger than the recipient's mailbox quota of 100 bytes", huge.Error);
    }

    [Fact]
    public void MailboxState_should_refuse_malformed_ids()
    {
        var state = new MailboxState(10, 1000, 10);
        var shortId = state.Decide(Store(ByteString.CopyFrom(new byte[15]), 1), Mail.Start);
        Assert.Equal("malformed envelope: a message id is 16 bytes", Assert.IsType<MailboxDecision.Refused>(shortId).Error);
        var badSender = Store(Id(1), 1);
        badSender.Sender = ByteString.CopyFrom(new byte[19]);
        Assert.Equal("malformed envelope: a sender device id is 20 bytes", Assert.IsType<MailboxDecision.Refused>(state.Decide(badSender, Mail.Start)).Error);
        Assert.True(state.IsEmpty);
    }

    [Fact]
    public void MailboxState_should_keep_acceptance_order_and_payloads_through_holes_and_growth()
    {
        // Removals leave holes that later stores close up or grow past: order and bytes must survive both.
        var state = new MailboxState(1000, 100_000, 0);
        var expected = new List<int>();
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 40; i++)
            {
                var n = round * 100 + i;
                Accept(state, Mail.Store(Ann, Bob, Id(n), ByteString.CopyFrom([(byte)n, (byte)round])), Mail.Start);
                expected.Add(n);
            }
            var gone = expected.Where((_, i) => i % 3 != 1).ToList();
            state.Apply(state.Delivered(gone.Select(Id))!);
            expected.RemoveAll(gone.Contains);
        }
        Assert.Equal(expected.Select(Id), state.Held.Select(e => e.MessageId));
        Assert.All(state.Held, e => Assert.Equal(e.MessageId[15], e.Payload[0]));
        Assert.All(state.Deliverable(long.MaxValue), e => Assert.Equal(Bob.ToWire(), e.Sender));
        Assert.Equal(expected.Count * 2L, state.Bytes);
        Assert.Equal(2, state.Deliverable(2).Count());
        state.Apply(state.Delivered(expected.Select(Id))!);
        Assert.True(state.IsEmpty);
        Assert.Empty(state.Held);
    }

    [Fact]
    public void MailboxState_should_remove_only_held_ids_once_on_delivery()
    {
        var state = new MailboxState(10, 1000, 10);
        Accept(state, Store(Id(1), 3), Mail.Start);
        Accept(state, Store(Id(2), 4), Mail.Start);
        Assert.Null(state.Delivered([Id(9), ByteString.CopyFrom(new byte[3])]));
        var removed = state.Delivered([Id(2), Id(2), Id(9)])!;
        Assert.Equal([Id(2)], removed.MessageIds);
        Assert.False(removed.Expired);
        state.Apply(removed);
        Assert.Equal([Id(1)], state.Held.Select(e => e.MessageId));
        Assert.Equal(3, state.Bytes);
    }

    [Fact]
    public void MailboxState_should_expire_only_what_is_older_than_the_dormancy_period()
    {
        var state = new MailboxState(10, 1000, 10);
        Accept(state, Store(Id(1), 1), Mail.Start);
        Accept(state, Store(Id(2), 1), Mail.Start + TimeSpan.FromDays(1));
        Assert.Empty(state.Expired(Mail.Start + Dormancy, Dormancy)); // exactly the period: not older yet
        var now = Mail.Start + Dormancy + TimeSpan.FromMilliseconds(1);
        Assert.Equal([EnvelopeId.From(Id(1))], state.Expired(now, Dormancy));
        var removed = state.Expire(now, Dormancy)!;
        Assert.True(removed.Expired);
        state.Apply(removed);
        Assert.Equal([Id(2)], state.Held.Select(e => e.MessageId));
        Assert.Null(state.Expire(now, Dormancy));
    }

    // ---- properties of any sequence -----------------------------------------------------------

    private abstract record Op;
    private sealed record StoreOp(int Id, int Size, int Minutes) : Op;
    private sealed record DeliverOp(int[] Ids, int Minutes) : Op;
    private sealed record ExpireOp(int Minutes) : Op;

    private sealed record Scenario(int MaxEnvelopes, int MaxBytes, int Remember, int DormancyMinutes, Op[] Ops)
    {
        public override string ToString() =>
            $"max {MaxEnvelopes} envelopes / {MaxBytes} bytes, remember {Remember}, dormancy {DormancyMinutes} min: " +
            string.Join(", ", Ops.Select(o => o switch
            {
                StoreOp s => $"store #{s.Id} ({s.Size} B, +{s.Minutes}m)",
                DeliverOp d => $"deliver [{string.Join(' ', d.Ids)}] (+{d.Minutes}m)",
                ExpireOp e => $"expire (+{e.Minutes}m)",
                _ => "?",
            }));
    }

    // A small pool of ids so that duplicates, re-stores after delivery and forgetting all happen often.
    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 11], Gen.Int[0, 30], Gen.Int[0, 3], (id, size, m) => (Op)new StoreOp(id, size, m))),
        (3, Gen.Select(Gen.Int[0, 11].Array[0, 4], Gen.Int[0, 3], (ids, m) => (Op)new DeliverOp(ids, m))),
        (1, Gen.Int[0, 10].Select(m => (Op)new ExpireOp(m))));

    private static readonly Gen<Scenario> GenScenario = Gen.Select(Gen.Int[1, 6], Gen.Int[1, 100], Gen.Int[0, 6], Gen.Int[1, 20], GenOp.Array[0, 80],
        (envelopes, bytes, remember, dormancy, ops) => new Scenario(envelopes, bytes, remember, dormancy, ops));

    [Fact]
    public void MailboxState_should_keep_its_invariants_over_any_sequence_of_store_deliver_and_expire() =>
        GenScenario.Sample(Run, iter: 2000, print: s => s.ToString());

    private static void Run(Scenario scenario)
    {
        var state = new MailboxState(scenario.MaxEnvelopes, scenario.MaxBytes, scenario.Remember);
        var dormancy = TimeSpan.FromMinutes(scenario.DormancyMinutes);
        var now = Mail.Start;
        var events = new List<IMessage>();
        var model = new List<ByteString>();      // what should be held, in acceptance order
        var removals = new List<ByteString>();   // every id removed, in removal order

        foreach (var op in scenario.Ops)
        {
            switch (op)
            {
                case StoreOp s:
                {
                    now += TimeSpan.FromMinutes(s.Minutes);
                    var id = Id(s.Id);
                    var key = EnvelopeId.From(id);
                    var held = state.Holds(key);
                    var remembered = state.Remembers(key);
                    var (count, bytes) = (state.Count, state.Bytes);
                    var decision = state.Decide(Store(id, s.Size), now);
                    switch (decision)
                    {
                        case MailboxDecision.Store stored:
                            // Never stored while held or remembered, and only when it fits.
                            Assert.False(held || remembered, "a held or remembered id was stored again");
                            Assert.True(count < scenario.MaxEnvelopes && bytes + s.Size <= scenario.MaxBytes, "stored beyond the quota");
                            state.Apply(stored.Event);
                            events.Add(stored.Event);
                            model.Add(id);
                            break;
                        case MailboxDecision.Duplicate:
                            Assert.True(held || remembered, "a new id was called a duplicate");
                            break;
                        case MailboxDecision.Refused refused:
                            // Refused only for the quota, and then with a clear reason.
                            Assert.False(held || remembered, "a duplicate was refused instead of acknowledged");
                            Assert.True(count >= scenario.MaxEnvelopes || bytes + s.Size > scenario.MaxBytes, "refused although it fits: " + refused.Error);
                            Assert.StartsWith("quota: ", refused.Error, StringComparison.Ordinal);
                            break;
                    }
                    break;
                }
                case DeliverOp d:
                {
                    now += TimeSpan.FromMinutes(d.Minutes);
                    var removed = state.Delivered(d.Ids.Select(Id));
                    var heldAsked = d.Ids.Select(Id).Distinct().Where(id => state.Holds(EnvelopeId.From(id))).ToList();
                    Assert.Equal(heldAsked, removed?.MessageIds.ToList() ?? []);
                    if (removed is null) break;
                    state.Apply(removed);
                    events.Add(removed);
                    removals.AddRange(removed.MessageIds);
                    foreach (var id in removed.MessageIds) model.Remove(id);
                    break;
                }
                case ExpireOp e:
                {
                    now += TimeSpan.FromMinutes(e.Minutes);
                    var expired = state.Expired(now, dormancy);
                    foreach (var held in state.Held)
                    {
                        var old = now.ToUnixTimeMilliseconds() - held.AcceptedAtMs > (long)dormancy.TotalMilliseconds;
                        Assert.Equal(old, expired.Contains(EnvelopeId.From(held.MessageId)));
                    }
                    var removed = state.Expire(now, dormancy);
                    Assert.Equal(expired.Count, removed?.MessageIds.Count ?? 0);
                    if (removed is null) break;
                    Assert.True(removed.Expired);
                    state.Apply(removed);
                    events.Add(removed);
                    removals.AddRange(removed.MessageIds);
                    foreach (var id in removed.MessageIds) model.Remove(id);
                    Assert.Empty(state.Expired(now, dormancy));
                    break;
                }
            }
            CheckInvariants(state, scenario, model, removals);
        }

        // Replay (what recovery does) gives the same state and the same answers.
        var replayed = new MailboxState(scenario.MaxEnvelopes, scenario.MaxBytes, scenario.Remember);
        foreach (var e in events)
        {
            if (e is EnvelopeStored s) replayed.Apply(s);
            else replayed.Apply((EnvelopesRemoved)e);
        }
        Assert.Equal(state.Held.Select(e => (e.MessageId, e.AcceptedAtMs, e.Payload.Length)), replayed.Held.Select(e => (e.MessageId, e.AcceptedAtMs, e.Payload.Length)));
        Assert.Equal(state.Bytes, replayed.Bytes);
        Assert.Equal(state.RememberedCount, replayed.RememberedCount);
        for (var i = 0; i <= 11; i++)
        {
            var key = EnvelopeId.From(Id(i));
            Assert.Equal(state.Remembers(key), replayed.Remembers(key));
            Assert.Equal(state.Decide(Store(Id(i), 1), now).GetType(), replayed.Decide(Store(Id(i), 1), now).GetType());
        }
    }

    private static void CheckInvariants(MailboxState state, Scenario scenario, List<ByteString> model, List<ByteString> removals)
    {
        var held = state.Held.ToList();
        var ids = held.Select(e => e.MessageId).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(held.Count, state.Count);
        Assert.True(state.Count <= scenario.MaxEnvelopes);
        Assert.Equal(held.Sum(e => (long)e.Payload.Length), state.Bytes);
        Assert.True(state.Bytes <= scenario.MaxBytes);

        // Order kept: what is held is the model (stores appended, removals taken out), in acceptance order.
        Assert.Equal(model, ids);

        // The last removals (up to the memory's size) are all remembered, so a late duplicate is not stored.
        var recent = removals.TakeLast(scenario.Remember).ToList();
        Assert.Equal(recent.Count, recent.Distinct().Count());
        foreach (var id in recent)
        {
            var key = EnvelopeId.From(id);
            Assert.True(state.Remembers(key));
            Assert.False(state.Holds(key));
            Assert.IsType<MailboxDecision.Duplicate>(state.Decide(Store(id, 0), Mail.Start));
        }
        Assert.True(state.RememberedCount <= scenario.Remember);
    }
}

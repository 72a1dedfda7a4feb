using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit;
using ActorSync.Core.Identity;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Mailboxes;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Relay.Mailboxes.MailboxProtocol;
using Envelope = ActorSync.Protocol.Relay.Envelope;

namespace ActorSync.Relay.Tests.Mailboxes;

/// <summary>
/// One <see cref="MailboxActor"/> on a real SQLite journal, probes standing in for senders and
/// device sessions, expiry driven by ticks that carry an injected time: "accepted" survives a
/// whole new ActorSystem, ids are stored once, delivered envelopes are gone for good, old ones
/// expire, a full mailbox refuses clearly, and a device receives in acceptance order.
/// </summary>
public sealed class MailboxActorSpecs : MailboxSpec
{
    private static readonly TimeSpan Dormancy = TimeSpan.FromDays(21);

    private readonly DeviceId _ann = Mail.NewDevice();
    private readonly DeviceId _bob = Mail.NewDevice();
    private readonly ManualClock _clock = new(Mail.Start);

    public MailboxActorSpecs(ITestOutputHelper output) : base(MailboxFiles.Create(), "mailbox-specs", output) { }

    /// <summary>Timers pushed out of the way: the specs send ticks themselves.</summary>
    private static MailboxSettings Settings(int maxEnvelopes = 100, long maxBytes = 1 << 20) =>
        new(maxEnvelopes, maxBytes, Dormancy, TimeSpan.Zero) { PassivateAfter = null };

    private IActorRef Start(ActorSystem? system = null, MailboxSettings? settings = null) =>
        (system ?? Sys).ActorOf(MailboxActor.Props(_ann, settings ?? Settings(), _clock), "mailbox-" + Guid.NewGuid().ToString("N")[..8]);

    private static MailboxReply StoreAndWait(IActorRef mailbox, TestProbe sender, MailboxStore store)
    {
        mailbox.Tell(store, sender.Ref);
        var reply = sender.ExpectMsg<MailboxReply>(Patience);
        Assert.Equal(store.MessageId, reply.MessageId);
        return reply;
    }

    private MailboxReply Store(IActorRef mailbox, ByteString id, string payload, TestProbe? sender = null) =>
        StoreAndWait(mailbox, sender ?? CreateTestProbe(), Mail.Store(_ann, _bob, id, Mail.Payload(payload)));

    private static MailboxStatus Status(IActorRef mailbox, TestProbe probe)
    {
        mailbox.Tell(new GetMailboxStatus(), probe.Ref);
        return probe.ExpectMsg<MailboxStatus>(Patience);
    }

    private MailboxStatus Status(IActorRef mailbox) => Status(mailbox, CreateTestProbe());

    /// <summary>Attaches a new session probe and returns it with the envelopes it got (the mailbox must hold <paramref name="expected"/>).</summary>
    private (TestProbe Session, List<Envelope> Envelopes) AttachExpecting(IActorRef mailbox, int expected, ActorSystem? system = null)
    {
        var session = CreateTestProbe(system ?? Sys);
        mailbox.Tell(Mail.Attach(_ann), session.Ref);
        var envelopes = Enumerable.Range(0, expected).Select(_ => session.ExpectMsg<Envelope>(Patience)).ToList();
        // The status answer comes after the attach is handled: nothing more was sent to the session.
        Assert.Equal(expected, Status(mailbox, CreateTestProbe(system ?? Sys)).Envelopes);
        Assert.False(session.HasMessages);
        return (session, envelopes);
    }

    private async Task<T> InFirstSystem<T>(Func<ActorSystem, T> run)
    {
        var first = ActorSystem.Create("first-run", Files.Config);
        try
        {
            return run(first);
        }
        finally
        {
            await first.Terminate().WaitAsync(Patience);
        }
    }

    // ---- durable accept ----------------------------------------------------------------------

    [Fact]
    public async Task MailboxActor_should_answer_accepted_only_once_durable_so_a_new_ActorSystem_delivers_it_on_attach()
    {
        var id = Mail.NewId();
        // The first process accepts and is stopped straight after the reply: nothing else happens in between.
        var reply = await InFirstSystem(first => StoreAndWait(Start(first), CreateTestProbe(first), Mail.Store(_ann, _bob, id, Mail.Payload("sealed bytes"))));
        Assert.True(reply.Accepted);
        Assert.Equal("", reply.Error);

        var recovered = Start();
        var (_, envelopes) = AttachExpecting(recovered, 1);
        Assert.Equal(id, envelopes[0].MessageId);
        Assert.Equal(_bob.ToWire(), envelopes[0].Sender);
        Assert.Equal("sealed bytes", envelopes[0].Payload.ToStringUtf8());
    }

    // ---- dedupe ------------------------------------------------------------------------------

    [Fact]
    public async Task MailboxActor_should_store_a_message_id_once_and_acknowledge_retries_even_after_delivery_and_restart()
    {
        var (a, b) = (Mail.NewId(), Mail.NewId());
        await InFirstSystem(first =>
        {
            var mailbox = Start(first);
            var sender = CreateTestProbe(first);
            Assert.True(StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, a, Mail.Payload("one"))).Accepted);
            // A retry while held, even with other bytes: acknowledged, not stored twice.
            Assert.True(StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, a, Mail.Payload("one, again"))).Accepted);
            Assert.True(StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, b, Mail.Payload("two"))).Accepted);
            Assert.Equal(2, Status(mailbox, CreateTestProbe(first)).Envelopes);
            mailbox.Tell(Mail.Delivered(_ann, a));
            // A late retry of a delivered one: acknowledged, not stored again.
            Assert.True(StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, a, Mail.Payload("one, late"))).Accepted);
            Assert.Equal(1, Status(mailbox, CreateTestProbe(first)).Envelopes);
            return 0;
        });

        // The memory of delivered ids is rebuilt from the journal.
        var recovered = Start();
        Assert.True(Store(recovered, a, "one, later still").Accepted);
        Assert.True(Store(recovered, b, "two, again").Accepted);
        var status = Status(recovered);
        Assert.Equal(1, status.Envelopes);
        Assert.Equal(1, status.RememberedRemoved);
        var (_, envelopes) = AttachExpecting(recovered, 1);
        Assert.Equal(b, envelopes[0].MessageId);
        Assert.Equal("two", envelopes[0].Payload.ToStringUtf8());
    }

    // ---- ack-delete --------------------------------------------------------------------------

    [Fact]
    public async Task MailboxActor_should_delete_acknowledged_envelopes_for_good()
    {
        var ids = Enumerable.Range(0, 4).Select(_ => Mail.NewId()).ToArray();
        await InFirstSystem(first =>
        {
            var mailbox = Start(first);
            var sender = CreateTestProbe(first);
            for (var i = 0; i < ids.Length; i++) StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, ids[i], Mail.Payload($"m{i}")));
            // Ids not held (never stored, or not an id at all) are ignored.
            mailbox.Tell(Mail.Delivered(_ann, ids[0], ids[2], Mail.NewId(), ByteString.CopyFromUtf8("junk")));
            var status = Status(mailbox, CreateTestProbe(first));
            Assert.Equal(2, status.Envelopes);
            Assert.Equal(4, status.Bytes);
            return 0;
        });

        var recovered = Start();
        var (session, envelopes) = AttachExpecting(recovered, 2);
        Assert.Equal([ids[1], ids[3]], envelopes.Select(e => e.MessageId));
        recovered.Tell(Mail.Delivered(_ann, ids[1], ids[3]), session.Ref);
        Assert.Equal(0, Status(recovered).Envelopes);
        Watch(recovered);
        recovered.Tell(StopMailbox.Instance);
        ExpectTerminated(recovered, Patience);

        AttachExpecting(Start(), 0);
    }

    [Fact]
    public void MailboxActor_should_ignore_requests_for_another_device()
    {
        var mailbox = Start();
        var id = Mail.NewId();
        Assert.True(Store(mailbox, id, "for ann").Accepted);
        var wrong = StoreAndWait(mailbox, CreateTestProbe(), Mail.Store(_bob, _bob, Mail.NewId(), Mail.Payload("for bob")));
        Assert.False(wrong.Accepted);
        Assert.Equal("this mailbox belongs to another device", wrong.Error);

        var intruder = CreateTestProbe();
        mailbox.Tell(Mail.Attach(_bob), intruder.Ref);
        mailbox.Tell(Mail.Delivered(_bob, id));
        var status = Status(mailbox);
        Assert.Equal(1, status.Envelopes);
        Assert.False(status.SessionAttached);
        Assert.False(intruder.HasMessages);
    }

    // ---- expiry ------------------------------------------------------------------------------

    [Fact]
    public async Task MailboxActor_should_expire_envelopes_older_than_the_dormancy_period_on_a_tick()
    {
        var (old, young) = (Mail.NewId(), Mail.NewId());
        await InFirstSystem(first =>
        {
            var mailbox = Start(first);
            var sender = CreateTestProbe(first);
            StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, old, Mail.Payload("old")));
            _clock.Advance(TimeSpan.FromDays(10));
            StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, young, Mail.Payload("young")));

            // Exactly the dormancy period after the first: not older yet.
            mailbox.Tell(new MailboxTick(Mail.Start + Dormancy));
            Assert.Equal(2, Status(mailbox, CreateTestProbe(first)).Envelopes);
            mailbox.Tell(new MailboxTick(Mail.Start + Dormancy + TimeSpan.FromMinutes(1)));
            Assert.Equal(1, Status(mailbox, CreateTestProbe(first)).Envelopes);
            // An expired id is remembered like a delivered one: a late retry is not stored again.
            Assert.True(StoreAndWait(mailbox, sender, Mail.Store(_ann, _bob, old, Mail.Payload("old, retried"))).Accepted);
            Assert.Equal(1, Status(mailbox, CreateTestProbe(first)).Envelopes);
            return 0;
        });

        var recovered = Start();
        var (_, envelopes) = AttachExpecting(recovered, 1);
        Assert.Equal(young, envelopes[0].MessageId);
    }

    [Fact]
    public async Task MailboxActor_should_expire_on_its_own_timer_and_at_recovery_with_the_injected_clock()
    {
        var settings = Settings() with { ExpiryInterval = TimeSpan.FromMilliseconds(200) };
        var id = Mail.NewId();
        await InFirstSystem(first =>
        {
            var mailbox = Start(first, settings);
            StoreAndWait(mailbox, CreateTestProbe(first), Mail.Store(_ann, _bob, id, Mail.Payload("kept")));
            _clock.Advance(Dormancy); // not older than the period yet: the timer keeps firing, nothing goes
            Assert.Equal(1, Status(mailbox, CreateTestProbe(first)).Envelopes);
            return 0;
        });

        // While no node ran the mailbox, its time passed: it expires as soon as it is back.
        _clock.Advance(TimeSpan.FromHours(1));
        var recovered = Start(settings: Settings());
        AwaitAssert(() => Assert.Equal(0, Status(recovered).Envelopes), Patience, TimeSpan.FromMilliseconds(100));
        // One incarnation per persistence id at a time.
        Watch(recovered);
        recovered.Tell(StopMailbox.Instance);
        ExpectTerminated(recovered, Patience);

        // And on its own timer, with the time the injected clock says.
        var timed = Start(settings: settings);
        var next = Mail.NewId();
        Assert.True(Store(timed, next, "next").Accepted);
        Assert.Equal(1, Status(timed).Envelopes);
        _clock.Advance(Dormancy + TimeSpan.FromSeconds(1));
        AwaitAssert(() => Assert.Equal(0, Status(timed).Envelopes), Patience, TimeSpan.FromMilliseconds(100));
    }

    // ---- quota -------------------------------------------------------------------------------

    [Fact]
    public void MailboxActor_should_refuse_clearly_when_the_quota_is_full_and_accept_again_once_delivered()
    {
        var mailbox = Start(settings: Settings(maxEnvelopes: 2, maxBytes: 10));
        var (a, b, c) = (Mail.NewId(), Mail.NewId(), Mail.NewId());
        Assert.True(Store(mailbox, a, "aaaa").Accepted);
        Assert.True(Store(mailbox, b, "bbbb").Accepted);

        var full = Store(mailbox, c, "c");
        Assert.False(full.Accepted);
        Assert.Equal("quota: the recipient's mailbox is full (2 of 2 envelopes held); retry later", full.Error);
        // A retry of one it holds is still acknowledged.
        Assert.True(Store(mailbox, a, "aaaa").Accepted);

        mailbox.Tell(Mail.Delivered(_ann, a));
        var bytes = Store(mailbox, c, "ccccccc");
        Assert.False(bytes.Accepted);
        Assert.Equal("quota: the recipient's mailbox is full (4 of 10 bytes held, 7 more do not fit); retry later", bytes.Error);
        Assert.True(Store(mailbox, c, "cccccc").Accepted);
        var status = Status(mailbox);
        Assert.Equal(2, status.Envelopes);
        Assert.Equal(10, status.Bytes);
    }

    // ---- delivery to the device --------------------------------------------------------------

    [Fact]
    public void MailboxActor_should_deliver_in_acceptance_order_then_push_each_new_envelope_once_durable()
    {
        var mailbox = Start();
        var sender = CreateTestProbe();
        var ids = Enumerable.Range(0, 20).Select(_ => Mail.NewId()).ToArray();
        for (var i = 0; i < 10; i++) Assert.True(Store(mailbox, ids[i], $"m{i}", sender).Accepted);

        var (session, envelopes) = AttachExpecting(mailbox, 10);
        Assert.Equal(ids[..10], envelopes.Select(e => e.MessageId));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), envelopes.Select(e => e.Payload.ToStringUtf8()));

        // Stores sent back to back while attached: each reaches the session after it is durable, in order.
        for (var i = 10; i < 20; i++) mailbox.Tell(Mail.Store(_ann, _bob, ids[i], Mail.Payload($"m{i}")), sender.Ref);
        for (var i = 10; i < 20; i++)
        {
            Assert.True(sender.ExpectMsg<MailboxReply>(Patience).Accepted);
            Assert.Equal(ids[i], session.ExpectMsg<Envelope>(Patience).MessageId);
        }
        // A duplicate is not pushed again (the reply comes after any push would have).
        Assert.True(Store(mailbox, ids[15], "m15", sender).Accepted);
        Assert.False(session.HasMessages);

        // Attaching again (a reconnect) sends everything held again, still in order.
        var (_, again) = AttachExpecting(mailbox, 20);
        Assert.Equal(ids, again.Select(e => e.MessageId));
    }

    [Fact]
    public void MailboxActor_should_stop_pushing_after_detach_or_when_the_session_dies()
    {
        var mailbox = Start();
        var (session, _) = AttachExpecting(mailbox, 0);
        Assert.True(Status(mailbox).SessionAttached);

        // A detach from someone else (an old session) changes nothing.
        mailbox.Tell(Mail.Detach(_ann), CreateTestProbe().Ref);
        Assert.True(Status(mailbox).SessionAttached);
        mailbox.Tell(Mail.Detach(_ann), session.Ref);
        Assert.False(Status(mailbox).SessionAttached);
        Assert.True(Store(mailbox, Mail.NewId(), "after detach").Accepted);
        Assert.False(session.HasMessages);

        var (second, _) = AttachExpecting(mailbox, 1);
        Sys.Stop(second.Ref);
        AwaitAssert(() => Assert.False(Status(mailbox).SessionAttached), Patience, TimeSpan.FromMilliseconds(100));
        Assert.True(Store(mailbox, Mail.NewId(), "after the session died").Accepted);
        Assert.Equal(2, Status(mailbox).Envelopes);
    }

    // ---- passivation -------------------------------------------------------------------------

    /// <summary>Stands in for the shard: starts the mailbox as its child and reports its Passivate requests.</summary>
    private sealed class FakeShard : ReceiveActor
    {
        public FakeShard(Props child, IActorRef reports)
        {
            var mailbox = Context.ActorOf(child, "entity");
            Receive<Passivate>(p =>
            {
                reports.Tell(p);
                mailbox.Tell(p.StopMessage);
            });
            ReceiveAny(m => mailbox.Forward(m));
        }
    }

    [Fact]
    public void MailboxActor_should_ask_its_shard_to_passivate_it_once_empty_and_unattached()
    {
        var reports = CreateTestProbe();
        var settings = Settings() with { PassivateAfter = TimeSpan.FromMilliseconds(300) };
        var shard = Sys.ActorOf(Props.Create(() => new FakeShard(MailboxActor.Props(_ann, settings, _clock), reports.Ref)));
        var id = Mail.NewId();
        Assert.True(Store(shard, id, "held").Accepted);
        var (session, envelopes) = AttachExpecting(shard, 1);
        var entity = session.LastSender;
        Watch(entity);

        shard.Tell(Mail.Delivered(_ann, id));
        shard.Tell(Mail.Detach(_ann), session.Ref);
        var passivate = reports.ExpectMsg<Passivate>(Patience);
        Assert.Same(StopMailbox.Instance, passivate.StopMessage);
        ExpectTerminated(entity, Patience);
        Assert.Single(envelopes);
    }
}

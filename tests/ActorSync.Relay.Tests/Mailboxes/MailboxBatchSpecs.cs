using Akka.Actor;
using Akka.TestKit;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Mailboxes;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Relay.Mailboxes.MailboxProtocol;
using Envelope = ActorSync.Protocol.Relay.Envelope;

namespace ActorSync.Relay.Tests.Mailboxes;

/// <summary>
/// Stores that arrive while a write is in flight are written together as the next batch (one
/// atomic write), and still each is answered only once its batch's outcome is known: accepted when
/// durable, a duplicate within the batch once its first is written, the quota counted across the
/// batch, and a failed or rejected batch answered store by store with an error while everything
/// accepted before it stays.
/// </summary>
public sealed class MailboxBatchSpecs : MailboxSpec
{
    private readonly DeviceId _ann = Mail.NewDevice();
    private readonly DeviceId _bob = Mail.NewDevice();
    private readonly TestProbe _journal;

    public MailboxBatchSpecs(ITestOutputHelper output) : base(MailboxWriteOrderSpecs.Gated(MailboxFiles.Create()), "mailbox-batch-specs", output)
    {
        _journal = CreateTestProbe("journal");
        GatedJournal.Gate = new JournalGate(_journal.Ref);
    }

    private IActorRef Start(int maxEnvelopes = 10) =>
        Sys.ActorOf(MailboxActor.Props(_ann, new MailboxSettings(maxEnvelopes, 1 << 20, TimeSpan.FromDays(21), TimeSpan.Zero) { PassivateAfter = null }));

    /// <summary>Sends a store from a new probe (the probe will hear its answer).</summary>
    private TestProbe Send(IActorRef mailbox, ByteString id, string payload = "sealed")
    {
        var sender = CreateTestProbe();
        mailbox.Tell(Mail.Store(_ann, _bob, id, Mail.Payload(payload)), sender.Ref);
        return sender;
    }

    /// <summary>The status, answered after every message sent before it was handled.</summary>
    private MailboxStatus Status(IActorRef mailbox)
    {
        var probe = CreateTestProbe();
        mailbox.Tell(new GetMailboxStatus(), probe.Ref);
        return probe.ExpectMsg<MailboxStatus>(Patience);
    }

    private JournalGate.WriteArrived NextWrite() => _journal.ExpectMsg<JournalGate.WriteArrived>(Patience);

    private static MailboxReply Answer(TestProbe sender, ByteString id)
    {
        var reply = sender.ExpectMsg<MailboxReply>(Patience);
        Assert.Equal(id, reply.MessageId);
        return reply;
    }

    /// <summary>Stores <paramref name="id"/> alone, lets its write through and checks it was accepted.</summary>
    private void StoreDurably(IActorRef mailbox, ByteString id)
    {
        var sender = Send(mailbox, id);
        NextWrite();
        GatedJournal.Gate.Open();
        Assert.True(Answer(sender, id).Accepted);
    }

    private static void AssertUnanswered(params TestProbe[] senders) => Assert.All(senders, s => Assert.False(s.HasMessages));

    [Fact]
    public void MailboxActor_should_write_the_stores_that_queued_during_a_write_as_one_batch_and_answer_each_once_durable()
    {
        var mailbox = Start();
        var session = CreateTestProbe();
        mailbox.Tell(Mail.Attach(_ann), session.Ref);
        var (a, b, c) = (Mail.NewId(), Mail.NewId(), Mail.NewId());
        var sentA = Send(mailbox, a);
        Assert.Equal(1, NextWrite().Events);

        // While A's write is held, B, C and B again arrive: all wait, none is written yet.
        var sentB = Send(mailbox, b);
        var sentC = Send(mailbox, c);
        var sentB2 = Send(mailbox, b);
        Assert.Equal(0, Status(mailbox).Envelopes);
        AssertUnanswered(sentA, sentB, sentC, sentB2);

        GatedJournal.Gate.Open();
        Assert.True(Answer(sentA, a).Accepted);
        Assert.Equal(a, session.ExpectMsg<Envelope>(Patience).MessageId);

        // The three queued stores go as one write of two events (B's repeat is a duplicate of the
        // B in this batch), and nobody hears anything until it is in.
        var batch = NextWrite();
        Assert.Equal((1, 2), (batch.Writes, batch.Events));
        Assert.Equal(1, Status(mailbox).Envelopes);
        AssertUnanswered(sentB, sentC, sentB2);
        Assert.False(session.HasMessages);

        GatedJournal.Gate.Open();
        Assert.True(Answer(sentB, b).Accepted);
        Assert.True(Answer(sentC, c).Accepted);
        Assert.True(Answer(sentB2, b).Accepted);
        Assert.Equal([b, c], new[] { session.ExpectMsg<Envelope>(Patience).MessageId, session.ExpectMsg<Envelope>(Patience).MessageId });
        Assert.Equal(3, Status(mailbox).Envelopes);
        Assert.False(session.HasMessages);
    }

    [Fact]
    public void MailboxActor_should_count_the_quota_across_a_batch_and_refuse_only_once_the_batch_is_settled()
    {
        var mailbox = Start(maxEnvelopes: 3);
        var ids = Enumerable.Range(0, 5).Select(_ => Mail.NewId()).ToArray();
        var first = Send(mailbox, ids[0]);
        NextWrite();
        var rest = ids.Skip(1).Select(id => Send(mailbox, id)).ToArray();
        Status(mailbox);
        GatedJournal.Gate.Open();
        Assert.True(Answer(first, ids[0]).Accepted);

        // Room for two more: the batch holds the first two queued, and the other two are refused,
        // but only after the two they were counted against are durable.
        Assert.Equal(2, NextWrite().Events);
        Status(mailbox);
        AssertUnanswered(rest);
        GatedJournal.Gate.Open();
        Assert.True(Answer(rest[0], ids[1]).Accepted);
        Assert.True(Answer(rest[1], ids[2]).Accepted);
        foreach (var (sender, id) in rest.Skip(2).Zip(ids.Skip(3)))
        {
            var refused = Answer(sender, id);
            Assert.False(refused.Accepted);
            Assert.Contains("quota: the recipient's mailbox is full (3 of 3 envelopes held)", refused.Error);
        }
        Assert.Equal(3, Status(mailbox).Envelopes);
    }

    [Fact]
    public void MailboxActor_should_answer_every_store_of_a_rejected_batch_with_an_error_and_keep_what_it_accepted()
    {
        var mailbox = Start();
        var (a, b, c) = (Mail.NewId(), Mail.NewId(), Mail.NewId());
        StoreDurably(mailbox, a);

        var sentB = Send(mailbox, b);
        NextWrite();
        // Queued behind B: C, C again (a duplicate within the next batch), and A again (a duplicate of a durable envelope).
        var sentC = Send(mailbox, c);
        var sentC2 = Send(mailbox, c);
        var sentA2 = Send(mailbox, a);
        Status(mailbox);
        GatedJournal.Gate.Open();
        Assert.True(Answer(sentB, b).Accepted);

        Assert.Equal(1, NextWrite().Events);
        GatedJournal.Gate.Reject();
        Assert.Equal(StoreBatch.WriteFailed, Answer(sentC, c).Error);
        Assert.Equal(StoreBatch.WriteFailed, Answer(sentC2, c).Error);
        Assert.True(Answer(sentA2, a).Accepted);
        Assert.Equal(2, Status(mailbox).Envelopes);

        // The mailbox carries on: C's retry is a new store, written this time.
        var retry = Send(mailbox, c);
        Assert.Equal(1, NextWrite().Events);
        GatedJournal.Gate.Open();
        Assert.True(Answer(retry, c).Accepted);
        Assert.Equal(3, Status(mailbox).Envelopes);
    }

    [Fact]
    public void MailboxActor_should_answer_every_waiting_store_when_a_write_fails_and_recover_all_it_accepted()
    {
        var mailbox = Start();
        Watch(mailbox);
        var (a, b, c) = (Mail.NewId(), Mail.NewId(), Mail.NewId());
        StoreDurably(mailbox, a);

        var sentB = Send(mailbox, b);
        NextWrite();
        var sentC = Send(mailbox, c);
        Status(mailbox);
        GatedJournal.Gate.Fail();

        // Both the store being written and the one queued behind it hear "not stored"; the mailbox stops.
        Assert.Equal(StoreBatch.WriteFailed, Answer(sentB, b).Error);
        Assert.Equal(StoreBatch.WriteFailed, Answer(sentC, c).Error);
        ExpectTerminated(mailbox, Patience);

        // A new incarnation recovers what was accepted (A), and the retries are written.
        var again = Start();
        var session = CreateTestProbe();
        again.Tell(Mail.Attach(_ann), session.Ref);
        Assert.Equal(a, session.ExpectMsg<Envelope>(Patience).MessageId);
        var retryB = Send(again, b);
        var write = NextWrite();
        Assert.Equal(1, write.Events);
        GatedJournal.Gate.Open();
        Assert.True(Answer(retryB, b).Accepted);
        Assert.Equal(2, Status(again).Envelopes);
    }

    [Fact]
    public void MailboxActor_should_answer_the_batch_in_flight_before_it_stops()
    {
        var mailbox = Start();
        Watch(mailbox);
        var a = Mail.NewId();
        var sentA = Send(mailbox, a);
        NextWrite();
        mailbox.Tell(StopMailbox.Instance);
        Status(mailbox); // still running: the stop waits for the write
        GatedJournal.Gate.Open();
        Assert.True(Answer(sentA, a).Accepted);
        ExpectTerminated(mailbox, Patience);
    }

    [Fact]
    public void MailboxActor_should_record_a_removal_decided_while_it_waits_to_stop()
    {
        var mailbox = Start();
        Watch(mailbox);
        var a = Mail.NewId();
        StoreDurably(mailbox, a);

        // A stop arrives while B is being written; A's delivery is acknowledged behind it.
        var b = Mail.NewId();
        var sentB = Send(mailbox, b);
        NextWrite();
        mailbox.Tell(StopMailbox.Instance);
        mailbox.Tell(Mail.Delivered(_ann, a));
        GatedJournal.Gate.Open();
        Assert.True(Answer(sentB, b).Accepted);
        // The removal reaches the journal before the mailbox stops (else A would come back on the
        // next start, to be delivered again).
        Assert.Equal(1, NextWrite().Events);
        GatedJournal.Gate.Open();
        ExpectTerminated(mailbox, Patience);

        var again = Start();
        var session = CreateTestProbe();
        again.Tell(Mail.Attach(_ann), session.Ref);
        Assert.Equal(b, session.ExpectMsg<Envelope>(Patience).MessageId);
        Assert.Equal(1, Status(again).Envelopes);
    }
}

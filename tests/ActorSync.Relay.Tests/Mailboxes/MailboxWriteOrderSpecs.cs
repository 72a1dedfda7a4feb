using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Mailboxes;
using Xunit;
using Xunit.Abstractions;
using Envelope = ActorSync.Protocol.Relay.Envelope;

namespace ActorSync.Relay.Tests.Mailboxes;

/// <summary>
/// A journal that holds every write until the spec opens its gate (or makes it reject or fail the
/// write), and tells the spec when a write arrives: so a spec can look at the world while an event
/// is on its way to the journal but not yet in it.
/// </summary>
public sealed class GatedJournal : MemoryJournal
{
    /// <summary>The gate of the running spec (mailbox actor specs run one at a time).</summary>
    internal static JournalGate Gate { get; set; } = new(ActorRefs.Nobody);

    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        var writes = messages.ToList();
        var gate = Gate;
        gate.Arrived.Tell(new JournalGate.WriteArrived(writes.Count, writes.Sum(w => ((IImmutableList<IPersistentRepresentation>)w.Payload).Count)));
        switch (await gate.Next().ConfigureAwait(false))
        {
            case JournalGate.Outcome.Reject:
                return writes.Select(_ => (Exception?)new InvalidOperationException("the spec rejected this write")).ToImmutableList();
            case JournalGate.Outcome.Fail:
                throw new InvalidOperationException("the spec failed this write");
        }
        return await base.WriteMessagesAsync(writes, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Opens (or rejects, or fails) the held writes one at a time, and reports arrivals to a probe.</summary>
internal sealed class JournalGate(IActorRef arrived)
{
    private readonly Queue<TaskCompletionSource<Outcome>> _waiting = new();
    private readonly Queue<Outcome> _decided = new();
    private readonly Lock _lock = new();

    /// <summary>A write reached the journal: how many atomic writes, holding how many events.</summary>
    public sealed record WriteArrived(int Writes, int Events);

    /// <summary>Written; rejected (the journal lives on, like a serialization failure); failed (like a lost database).</summary>
    public enum Outcome { Write, Reject, Fail }

    public IActorRef Arrived { get; } = arrived;

    /// <summary>Waits for the spec's decision on the next write.</summary>
    public Task<Outcome> Next()
    {
        lock (_lock)
        {
            if (_decided.TryDequeue(out var outcome)) return Task.FromResult(outcome);
            var waiting = new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Enqueue(waiting);
            return waiting.Task;
        }
    }

    public void Open() => Decide(Outcome.Write);

    public void Reject() => Decide(Outcome.Reject);

    public void Fail() => Decide(Outcome.Fail);

    private void Decide(Outcome outcome)
    {
        lock (_lock)
        {
            if (_waiting.TryDequeue(out var waiting)) waiting.SetResult(outcome);
            else _decided.Enqueue(outcome);
        }
    }
}

/// <summary>
/// "Accepted" means durable: with the journal holding the write, neither the sender nor the
/// attached device hears of the envelope; once the write is in, both do. A write the journal
/// rejects is answered as not accepted, and the mailbox carries on.
/// </summary>
public sealed class MailboxWriteOrderSpecs : MailboxSpec
{
    private readonly DeviceId _ann = Mail.NewDevice();
    private readonly DeviceId _bob = Mail.NewDevice();
    private readonly Akka.TestKit.TestProbe _journal;

    public MailboxWriteOrderSpecs(ITestOutputHelper output) : base(Gated(MailboxFiles.Create()), "mailbox-write-order-specs", output)
    {
        _journal = CreateTestProbe("journal");
        GatedJournal.Gate = new JournalGate(_journal.Ref);
    }

    internal static MailboxFiles Gated(MailboxFiles files) => files.WithConfig(ConfigurationFactory.ParseString($$"""
        akka.persistence.journal.plugin = "akka.persistence.journal.gated"
        akka.persistence.journal.gated {
          class = "{{typeof(GatedJournal).AssemblyQualifiedName}}"
          plugin-dispatcher = "akka.actor.default-dispatcher"
        }
        """));

    private IActorRef Start() =>
        Sys.ActorOf(MailboxActor.Props(_ann, new MailboxSettings(10, 1 << 20, TimeSpan.FromDays(21), TimeSpan.Zero) { PassivateAfter = null }));

    [Fact]
    public void MailboxActor_should_answer_and_push_only_after_the_journal_has_the_envelope()
    {
        var mailbox = Start();
        var session = CreateTestProbe();
        mailbox.Tell(Mail.Attach(_ann), session.Ref);
        var sender = CreateTestProbe();
        var id = Mail.NewId();
        mailbox.Tell(Mail.Store(_ann, _bob, id, Mail.Payload("sealed")), sender.Ref);

        // The write is at the journal and held there: nobody has heard of the envelope yet.
        Assert.Equal(1, _journal.ExpectMsg<JournalGate.WriteArrived>(Patience).Writes);
        Assert.False(sender.HasMessages);
        Assert.False(session.HasMessages);

        GatedJournal.Gate.Open();
        var reply = sender.ExpectMsg<MailboxReply>(Patience);
        Assert.True(reply.Accepted);
        Assert.Equal(id, session.ExpectMsg<Envelope>(Patience).MessageId);
    }

    [Fact]
    public void MailboxActor_should_answer_not_accepted_when_the_journal_rejects_the_write()
    {
        var mailbox = Start();
        var sender = CreateTestProbe();
        var id = Mail.NewId();
        mailbox.Tell(Mail.Store(_ann, _bob, id, Mail.Payload("sealed")), sender.Ref);
        _journal.ExpectMsg<JournalGate.WriteArrived>(Patience);
        GatedJournal.Gate.Reject();
        var refused = sender.ExpectMsg<MailboxReply>(Patience);
        Assert.False(refused.Accepted);
        Assert.Equal("the relay could not store the envelope; retry", refused.Error);

        // Nothing was stored, so the sender's retry is a new envelope, and this time it is written.
        mailbox.Tell(Mail.Store(_ann, _bob, id, Mail.Payload("sealed")), sender.Ref);
        _journal.ExpectMsg<JournalGate.WriteArrived>(Patience);
        GatedJournal.Gate.Open();
        Assert.True(sender.ExpectMsg<MailboxReply>(Patience).Accepted);
        mailbox.Tell(new MailboxProtocol.GetMailboxStatus(), sender.Ref);
        Assert.Equal(1, sender.ExpectMsg<MailboxProtocol.MailboxStatus>(Patience).Envelopes);
    }
}

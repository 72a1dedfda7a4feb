using Akka.Actor;
using Akka.Cluster;
using ActorSync.Core.Identity;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Mailboxes;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;
using Envelope = ActorSync.Protocol.Relay.Envelope;

namespace ActorSync.Relay.Tests.Mailboxes;

/// <summary>
/// The mailbox as a Cluster.Sharding entity in a one-node cluster (ddata state store) on a real
/// SQLite journal: the region routes each message to the mailbox of its recipient, the entity is
/// named by the recipient's device id, drops what has no recipient, and an emptied, unattached
/// mailbox passivates and comes back with its memory of delivered ids.
/// </summary>
public sealed class MailboxShardingSpecs : MailboxSpec
{
    private readonly DeviceId _ann = Mail.NewDevice();
    private readonly DeviceId _bob = Mail.NewDevice();
    private readonly DeviceId _carol = Mail.NewDevice();

    public MailboxShardingSpecs(ITestOutputHelper output) : base(MailboxFiles.Create(cluster: true), "mailbox-sharding-specs", output) { }

    private IActorRef StartRegion()
    {
        var cluster = Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        AwaitCondition(() => cluster.SelfMember.Status == MemberStatus.Up, Patience, TimeSpan.FromMilliseconds(100));
        var settings = new MailboxSettings(100, 1 << 20, TimeSpan.FromDays(21), TimeSpan.FromHours(1)) { PassivateAfter = TimeSpan.FromMilliseconds(500) };
        return MailboxSharding.Start(Sys, settings, shards: 10);
    }

    private MailboxReply Store(IActorRef region, DeviceId recipient, ByteString id, string payload)
    {
        var sender = CreateTestProbe();
        region.Tell(Mail.Store(recipient, _carol, id, Mail.Payload(payload)), sender.Ref);
        var reply = sender.ExpectMsg<MailboxReply>(Patience);
        Assert.Equal(id, reply.MessageId);
        return reply;
    }

    [Fact]
    public void Mailbox_sharding_should_route_every_message_to_the_mailbox_of_its_recipient()
    {
        var region = StartRegion();
        var annIds = Enumerable.Range(0, 3).Select(_ => Mail.NewId()).ToArray();
        var bobIds = Enumerable.Range(0, 2).Select(_ => Mail.NewId()).ToArray();
        // Interleaved, as a fan-out enqueue would send them.
        Assert.True(Store(region, _ann, annIds[0], "a0").Accepted);
        Assert.True(Store(region, _bob, bobIds[0], "b0").Accepted);
        Assert.True(Store(region, _ann, annIds[1], "a1").Accepted);
        Assert.True(Store(region, _bob, bobIds[1], "b1").Accepted);
        Assert.True(Store(region, _ann, annIds[2], "a2").Accepted);

        // A message whose recipient is not a device id has no entity: dropped, and the region carries on.
        var lost = CreateTestProbe();
        region.Tell(new MailboxStore { Recipient = ByteString.CopyFromUtf8("nobody"), MessageId = Mail.NewId(), Sender = _carol.ToWire() }, lost.Ref);

        var annSession = CreateTestProbe();
        region.Tell(Mail.Attach(_ann), annSession.Ref);
        Assert.Equal(annIds, Enumerable.Range(0, 3).Select(_ => annSession.ExpectMsg<Envelope>(Patience).MessageId));
        // The entity is the recipient's mailbox: named by its device id, journaled under "mailbox-<device id>".
        Assert.Equal(MailboxMessageExtractor.EntityIdOf(_ann), annSession.LastSender.Path.Name);
        Assert.Equal(_ann.ToString(), annSession.LastSender.Path.Name);

        var bobSession = CreateTestProbe();
        region.Tell(Mail.Attach(_bob), bobSession.Ref);
        Assert.Equal(bobIds, Enumerable.Range(0, 2).Select(_ => bobSession.ExpectMsg<Envelope>(Patience).MessageId));
        Assert.Equal(_bob.ToString(), bobSession.LastSender.Path.Name);

        // A new envelope for ann goes to ann's session only.
        var late = Mail.NewId();
        Assert.True(Store(region, _ann, late, "a3").Accepted);
        Assert.Equal(late, annSession.ExpectMsg<Envelope>(Patience).MessageId);
        Assert.False(bobSession.HasMessages);
        Assert.False(lost.HasMessages);
    }

    [Fact]
    public void Mailbox_sharding_should_passivate_an_emptied_mailbox_and_recover_it_with_its_memory()
    {
        var region = StartRegion();
        var id = Mail.NewId();
        Assert.True(Store(region, _ann, id, "once").Accepted);
        var session = CreateTestProbe();
        region.Tell(Mail.Attach(_ann), session.Ref);
        Assert.Equal(id, session.ExpectMsg<Envelope>(Patience).MessageId);
        var entity = session.LastSender;
        Watch(entity);

        region.Tell(Mail.Delivered(_ann, id));
        region.Tell(Mail.Detach(_ann), session.Ref);
        ExpectTerminated(entity, Patience);

        // Started again on the next message, from the journal: the delivered id is still known.
        Assert.True(Store(region, _ann, id, "once, retried late").Accepted);
        var again = CreateTestProbe();
        region.Tell(Mail.Attach(_ann), again.Ref);
        var next = Mail.NewId();
        Assert.True(Store(region, _ann, next, "next").Accepted);
        // The first envelope the new session sees is the new one: the retried id was not stored again.
        Assert.Equal(next, again.ExpectMsg<Envelope>(Patience).MessageId);
    }
}

using Akka.Cluster.Sharding;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Relay;
using Google.Protobuf;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// Routes the mailbox messages of relay.proto to the entity of their recipient: entity id = the
/// recipient's device id text, shard = a hash of it over a fixed number of shards (the same on
/// every node). A recipient that is not a 20-byte device id has no entity: the region drops the
/// message as unhandled (the front end refuses such requests before they get here). Sharding
/// itself handles StartEntity and ShardingEnvelope (AK2001).
/// </summary>
public sealed class MailboxMessageExtractor : HashCodeMessageExtractor
{
    public MailboxMessageExtractor(int maxNumberOfShards) : base(maxNumberOfShards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNumberOfShards, 1);
    }

    public override string? EntityId(object message) => message switch
    {
        MailboxStore m => EntityIdOf(m.Recipient),
        MailboxDelivered m => EntityIdOf(m.Recipient),
        MailboxAttach m => EntityIdOf(m.Recipient),
        MailboxDetach m => EntityIdOf(m.Recipient),
        MailboxPendingFrom m => EntityIdOf(m.Recipient),
        _ => null,
    };

    /// <summary>The entity id of a mailbox: its device id as text.</summary>
    public static string EntityIdOf(DeviceId recipient) => recipient.ToString();

    /// <summary>The entity id for a recipient in wire form, or null when it is not a device id.</summary>
    public static string? EntityIdOf(ByteString? recipient) =>
        recipient is { Length: Fingerprint.Size } ? EntityIdOf(new DeviceId(Fingerprint.FromBytes(recipient.Span))) : null;
}

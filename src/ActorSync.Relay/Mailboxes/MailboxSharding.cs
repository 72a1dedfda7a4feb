using Akka.Actor;
using Akka.Cluster.Sharding;
using ActorSync.Core.Identity;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// Starts the sharded mailboxes on a relay node: one <see cref="MailboxActor"/> per recipient
/// device, routed by <see cref="MailboxMessageExtractor"/>. The returned region takes
/// MailboxStore, MailboxDelivered, MailboxAttach and MailboxDetach from anywhere on the node.
/// </summary>
public static class MailboxSharding
{
    /// <summary>The sharding type name (also the name of the region actor).</summary>
    public const string TypeName = "mailbox";

    public static IActorRef Start(ActorSystem system, MailboxSettings settings, int shards, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validated();
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        return sharding.Start(
            TypeName,
            entityId => MailboxActor.Props(DeviceId.Parse(entityId), settings, clock),
            shardingSettings,
            new MailboxMessageExtractor(shards),
            sharding.DefaultShardAllocationStrategy(shardingSettings),
            MailboxProtocol.StopMailbox.Instance);
    }
}

using Akka.Actor;
using ActorSync.Core.Identity;
using ActorSync.Peer.Home;

namespace ActorSync.Peer.Actors;

/// <summary>Typed settings of a peer, read once from config/peer.hocon.</summary>
public sealed record PeerSettings(
    TimeSpan AntiEntropyInterval,
    int MaxBatchBytes,
    int MaxBatchesInFlight,
    TimeSpan JoinTimeout,
    TimeSpan AskTimeout,
    TimeSpan DialBackoffMin,
    TimeSpan DialBackoffMax,
    TimeSpan UnreachableAfter,
    TimeSpan GoneAfter,
    TimeSpan PresenceTick,
    bool LanEnabled,
    string LanHost,
    IReadOnlyList<int> LanPorts,
    TimeSpan LanInterval,
    IReadOnlyList<string> RelayRoutes)
{
    /// <summary>How long a removed device waits for a remaining member to hold what it authored before it deletes its copy anyway.</summary>
    public TimeSpan LeaveHandover { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A member device not heard from in a workspace for this long is dormant (ARCHITECTURE section 5).</summary>
    public TimeSpan DormantAfter { get; init; } = TimeSpan.FromDays(21);

    /// <summary>Deltas journaled since the last snapshot before a new one is taken (recovery then starts from it).</summary>
    public int SnapshotEvery { get; init; } = 20_000;

    /// <summary>Deltas every active member holds before they are pruned from the log (and, with the next snapshot, the journal); 0 never prunes.</summary>
    public int PruneAfter { get; init; } = 10_000;

    public static PeerSettings From(Akka.Configuration.Config c)
    {
        var p = c.GetConfig("actorsync.peer");
        return new PeerSettings(
            p.GetTimeSpan("anti-entropy-interval"),
            p.GetInt("max-batch-bytes"),
            p.GetInt("max-batches-in-flight"),
            p.GetTimeSpan("join-timeout"),
            p.GetTimeSpan("ask-timeout"),
            p.GetTimeSpan("links.dial-backoff-min"),
            p.GetTimeSpan("links.dial-backoff-max"),
            p.GetTimeSpan("presence.unreachable-after"),
            p.GetTimeSpan("presence.gone-after"),
            p.GetTimeSpan("presence.tick-interval"),
            p.GetBoolean("presence.lan.enabled"),
            p.GetString("presence.lan.host"),
            p.GetIntList("presence.lan.ports").ToList(),
            p.GetTimeSpan("presence.lan.announce-interval"),
            RelayRoutesFrom(p.GetStringList("links.relay-routes")))
        {
            LeaveHandover = c.HasPath("actorsync.workspace.leave-handover") ? c.GetTimeSpan("actorsync.workspace.leave-handover") : TimeSpan.FromSeconds(60),
            DormantAfter = c.HasPath("actorsync.workspace.dormant-after") ? c.GetTimeSpan("actorsync.workspace.dormant-after") : TimeSpan.FromDays(21),
            SnapshotEvery = c.HasPath("actorsync.workspace.snapshot-every") ? c.GetInt("actorsync.workspace.snapshot-every") : 20_000,
            PruneAfter = c.HasPath("actorsync.workspace.prune-after") ? c.GetInt("actorsync.workspace.prune-after") : 10_000,
        };
    }

    private static IReadOnlyList<string> RelayRoutesFrom(IList<string> routes)
    {
        foreach (var route in routes)
            if (route is not ("grpc" or "http"))
                throw new Akka.Configuration.ConfigurationException($"actorsync.peer.links.relay-routes: '{route}' is not a relay route (grpc, http)");
        return routes.Distinct().ToList();
    }
}

/// <summary>What every actor of one peer shares: its identity, settings, known devices and clock.</summary>
public sealed record PeerContext(PeerHome Home, PeerSettings Settings, KnownDevices Known, TimeProvider Clock)
{
    /// <summary>Where this device accepts direct links once its transport listens (published as WAN presence).</summary>
    public Func<string?> ListenAddress { get; init; } = static () => null;

    /// <summary>Envelopes this device sent that still wait at the relay, per recipient device.</summary>
    public RelayBacklog Backlog { get; } = new();

    public AccountIdentity Account => Home.Account;
    public DeviceIdentity Device => Home.Device;
    public long NowMillis => Clock.GetUtcNow().ToUnixTimeMilliseconds();
}

using ActorSync.Core.Identity;

namespace ActorSync.Peer.Actors.Presence;

/// <summary>How reachable a device is, as far as this peer can tell.</summary>
public enum PresenceStatus
{
    Unknown,
    Online,
    Unreachable,
    Gone,
}

/// <summary>Messages of the presence tree (/presence/&lt;account&gt;/&lt;device&gt;).</summary>
public static class PresenceProtocol
{
    /// <summary>The device announced itself (LAN) or spoke over a link at <paramref name="At"/>.</summary>
    public sealed record Seen(AccountId Account, DeviceId Device, string? Address, DateTimeOffset At);

    /// <summary>An address to try for a device (from a contact), without claiming it is online.</summary>
    public sealed record AddressHint(AccountId Account, DeviceId Device, string Address);

    /// <summary>Re-evaluate thresholds; sent by the presence actor's timer, or directly by tests.</summary>
    public sealed record Tick(DateTimeOffset Now);

    /// <summary>A device's link went up or down at <paramref name="At"/> (the presence actor stamps it with its clock).</summary>
    public sealed record LinkChanged(bool Up, DateTimeOffset At);

    public sealed record GetPresence;

    public sealed record DevicePresence(AccountId Account, DeviceId Device, PresenceStatus Status, string? Address, DateTimeOffset? LastSeen);

    public sealed record PresenceSnapshot(IReadOnlyList<DevicePresence> Devices);

    /// <summary>Published on the event stream when a device's status or address changes (joins and leaves as diffs).</summary>
    public sealed record PresenceChanged(DevicePresence Presence, PresenceStatus Previous);
}

using ActorSync.Core.Causality;
using ActorSync.Core.Identity;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// What the workspace knows of one member device: the deltas it has (its last summary or ack,
/// plus what was sent since, optimistically) and whether a link is up. Plain state owned by the
/// workspace actor, because every send must be decided against the replica's log in the same step.
/// </summary>
public sealed class MemberSync
{
    public MemberSync(DeviceId device) => Device = device;

    public DeviceId Device { get; }
    public VersionVector Known { get; private set; } = VersionVector.Empty;
    public bool LinkUp { get; set; }

    /// <summary>What the device itself said it holds (summaries and acks only, never what was merely sent).</summary>
    public VersionVector Confirmed { get; private set; } = VersionVector.Empty;

    /// <summary>When a summary last went to this device (unix ms): over the relay, one goes about daily so a quiet workspace does not look dormant.</summary>
    public long LastKeepAliveMillis { get; set; }

    /// <summary>"direct", "relay", "relay-http" or "none": periodic summaries go only over direct links, so offline devices' mailboxes do not fill with them.</summary>
    public string Route { get; set; } = "none";
    public bool HeardFrom { get; private set; }
    public long Sent { get; private set; }

    /// <summary>Position in the replica's log below which the device holds everything: sends scan from here, not from the start.</summary>
    public int Cursor { get; set; }

    /// <summary>Its own word on what it has: replaces guesses (frames sent on a link that broke are forgotten).</summary>
    public void Summarised(VersionVector seen)
    {
        Known = seen;
        Confirmed = Confirmed.Merge(seen);
        Cursor = 0;
        HeardFrom = true;
    }

    public void Acknowledged(VersionVector applied)
    {
        Known = Known.Merge(applied);
        Confirmed = Confirmed.Merge(applied);
        HeardFrom = true;
    }

    public void MarkSent(DeltaId id)
    {
        Known = Known.With(id);
        Sent++;
    }

    private DateTimeOffset _answered = DateTimeOffset.MinValue;

    /// <summary>True at most once per <paramref name="interval"/>: whether a summary from the device may be answered with one of ours now.</summary>
    public bool MayAnswer(DateTimeOffset now, TimeSpan interval)
    {
        if (now - _answered < interval) return false;
        _answered = now;
        return true;
    }

    public void LinkLost()
    {
        LinkUp = false;
        Route = "none";
        // Frames in flight may be lost: the next summary from the device says what really arrived.
    }
}

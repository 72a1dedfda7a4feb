namespace ActorSync.Core.Causality;

/// <summary>
/// The hybrid logical clock of one device (Kulkarni et al.): never goes backwards, stays close to
/// physical time, and moves past every time it has observed. Physical time is passed in, so the
/// clock is deterministic under test.
/// </summary>
public sealed class HybridLogicalClock
{
    private HlcTimestamp _last;

    public HybridLogicalClock(HlcTimestamp last = default) => _last = last;

    public HlcTimestamp Last => _last;

    /// <summary>A time for a local event, later than every time issued or observed so far.</summary>
    public HlcTimestamp Now(long physicalMillis)
    {
        var next = physicalMillis > _last.Millis
            ? HlcTimestamp.From(physicalMillis, 0)
            : Bump(_last);
        _last = next;
        return next;
    }

    /// <summary>Moves the clock past a time seen in a received delta.</summary>
    public void Observe(HlcTimestamp remote)
    {
        if (remote > _last) _last = remote;
    }

    private static HlcTimestamp Bump(HlcTimestamp t) =>
        t.Counter < HlcTimestamp.MaxCounter ? new HlcTimestamp(t.Packed + 1) : HlcTimestamp.From(t.Millis + 1, 0);
}

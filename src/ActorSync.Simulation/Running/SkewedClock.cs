namespace ActorSync.Simulation.Running;

/// <summary>
/// A device's wall clock that runs a fixed offset from the real one (clock skew). Only the time of
/// day is skewed: timers and timestamps (intervals) stay real, as on a device whose clock is set
/// wrong but ticks at the right rate. The peer stamps its deltas' hybrid logical clock from it.
/// </summary>
internal sealed class SkewedClock : TimeProvider
{
    private readonly TimeSpan _offset;

    public SkewedClock(TimeSpan offset) => _offset = offset;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _offset;
}

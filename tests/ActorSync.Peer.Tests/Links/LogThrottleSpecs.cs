using ActorSync.Peer.Links;
using Xunit;

namespace ActorSync.Peer.Tests.Links;

public sealed class LogThrottleSpecs
{
    [Fact]
    public void LogThrottle_should_let_one_line_per_address_through_per_interval_and_count_the_rest()
    {
        var time = new ManualTime();
        var throttle = new LogThrottle(TimeSpan.FromSeconds(10), time);

        Assert.True(throttle.TryEnter("10.0.0.1", out var suppressed));
        Assert.Equal(0, suppressed);
        for (var i = 0; i < 5; i++) Assert.False(throttle.TryEnter("10.0.0.1", out _));
        Assert.True(throttle.TryEnter("10.0.0.2", out _));

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(throttle.TryEnter("10.0.0.1", out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryEnter("10.0.0.1", out suppressed));
        Assert.Equal(6, suppressed);
        Assert.False(throttle.TryEnter("10.0.0.1", out _));
    }

    [Fact]
    public void LogThrottle_should_not_grow_without_bound_with_many_addresses()
    {
        var time = new ManualTime();
        var throttle = new LogThrottle(TimeSpan.FromSeconds(10), time);
        for (var i = 0; i < 100_000; i++) throttle.TryEnter("addr-" + i, out _);
        // Still answers, and a fresh address is still let through.
        Assert.True(throttle.TryEnter("fresh", out _));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

namespace ActorSync.Core.Causality;

/// <summary>
/// Hybrid logical clock time: 48 bits of Unix milliseconds and a 16-bit logical counter packed in
/// one integer, so comparing two times is one integer comparison. Orders causally related events
/// correctly even when device clocks disagree.
/// </summary>
public readonly record struct HlcTimestamp(ulong Packed) : IComparable<HlcTimestamp>
{
    public const ulong MaxCounter = 0xFFFF;

    public static HlcTimestamp From(long millis, ulong counter) => new(((ulong)millis << 16) | (counter & MaxCounter));

    public long Millis => (long)(Packed >> 16);
    public ulong Counter => Packed & MaxCounter;

    public int CompareTo(HlcTimestamp other) => Packed.CompareTo(other.Packed);
    public static bool operator <(HlcTimestamp a, HlcTimestamp b) => a.Packed < b.Packed;
    public static bool operator >(HlcTimestamp a, HlcTimestamp b) => a.Packed > b.Packed;
    public static bool operator <=(HlcTimestamp a, HlcTimestamp b) => a.Packed <= b.Packed;
    public static bool operator >=(HlcTimestamp a, HlcTimestamp b) => a.Packed >= b.Packed;

    public DateTimeOffset ToDateTime() => DateTimeOffset.FromUnixTimeMilliseconds(Millis);

    public override string ToString() => $"{ToDateTime():yyyy-MM-ddTHH:mm:ss.fffZ}#{Counter}";
}

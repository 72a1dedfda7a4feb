namespace ActorSync.Simulation.Network;

/// <summary>
/// What the simulated network does to frames on live links, as probabilities per frame. Reorder
/// lets a frame overtake the ones sent before it on the same link (up to <see cref="MaxDelayMs"/>
/// late); without it every link keeps its frames in order, as TCP does.
/// </summary>
public sealed record LinkFaults(double Loss = 0, double Duplication = 0, double Reorder = 0, int MaxDelayMs = 0)
{
    public static LinkFaults None { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public LinkFaults Validated()
    {
        Check(Loss, "loss", 0.9);
        Check(Duplication, "duplication", 0.9);
        Check(Reorder, "reorder", 1);
        if (MaxDelayMs is < 0 or > 10_000) throw new ArgumentException($"maxDelayMs is {MaxDelayMs}: it must be 0-10000");
        return this;
    }

    private static void Check(double value, string name, double max)
    {
        if (double.IsNaN(value) || value < 0 || value > max)
            throw new ArgumentException($"{name} is {value}: it must be a probability from 0 to {max}");
    }
}

/// <summary>The fate of one frame, decided from the link's seeded random stream.</summary>
/// <param name="Copies">0 (lost), 1, or 2 (duplicated).</param>
/// <param name="DelayMs">Extra latency of the first copy.</param>
/// <param name="Overtakes">True when the frame may be delivered before frames sent earlier on its link.</param>
public readonly record struct FrameFate(int Copies, int DelayMs, bool Overtakes, int DuplicateDelayMs);

/// <summary>
/// The decisions for one direction of one link: a pure function of (seed, from, to, link ordinal,
/// frame ordinal), so the same run of frames meets the same faults whatever the thread timing.
/// </summary>
public sealed class FaultStream
{
    private readonly Random _random;

    public FaultStream(int seed, string from, string to, int linkOrdinal) =>
        _random = new Random(StableHash.Of(seed, from, to, linkOrdinal));

    public FrameFate Next(LinkFaults faults)
    {
        // Always draw the same count of numbers per frame, so one decision never shifts the next.
        var loss = _random.NextDouble();
        var dup = _random.NextDouble();
        var reorder = _random.NextDouble();
        var delay = _random.Next(0, Math.Max(1, faults.MaxDelayMs + 1));
        var dupDelay = _random.Next(0, Math.Max(1, faults.MaxDelayMs + 1));
        if (loss < faults.Loss) return new FrameFate(0, 0, false, 0);
        var overtakes = reorder < faults.Reorder;
        return new FrameFate(dup < faults.Duplication ? 2 : 1, delay, overtakes, dupDelay);
    }
}

/// <summary>FNV-1a over the parts: stable across processes (string.GetHashCode is randomised per process).</summary>
public static class StableHash
{
    public static int Of(int seed, params object[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        unchecked
        {
            var h = 2166136261u ^ (uint)seed;
            foreach (var part in parts)
            {
                var text = Convert.ToString(part, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                foreach (var c in text)
                {
                    h ^= c;
                    h *= 16777619u;
                }
                h ^= 0xFF;
                h *= 16777619u;
            }
            return (int)h;
        }
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ActorSync.Cli.Bench;

/// <summary>One measured figure, with the target ARCHITECTURE §7 sets for it (if any).</summary>
/// <param name="Better">"lower" or "higher": which way the target is met.</param>
internal sealed record BenchMetric(string Scenario, string Metric, double Value, string Unit, double? Target = null, string Better = "lower",
    string? Note = null)
{
    [JsonIgnore]
    public bool? Met => Target is { } t ? (Better == "lower" ? Value <= t : Value >= t) : null;

    public string ToJson() => JsonSerializer.Serialize(new
    {
        scenario = Scenario, metric = Metric, value = Math.Round(Value, 3), unit = Unit, target = Target, met = Met, note = Note,
    });

    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        if (samples.Count == 0) return double.NaN;
        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static string Format(double value) =>
        value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>How big each scenario runs: the full sizes of the targets, or a quick pass that checks the machinery.</summary>
internal sealed record BenchScale(bool Quick)
{
    public int Of(int full, int quick) => Quick ? quick : full;
}

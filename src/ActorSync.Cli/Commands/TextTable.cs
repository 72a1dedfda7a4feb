using System.Globalization;
using System.Text;

namespace ActorSync.Cli.Commands;

/// <summary>
/// Aligned plain-text tables for people. Every cell is cleaned first: entries, names and file names
/// come from other members, and an escape sequence or a bidi override in them must not reach the
/// terminal as anything but a visible placeholder.
/// </summary>
internal static class TextTable
{
    public const int MaxCell = 80;

    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var cleaned = rows.Select(r => r.Select(c => Truncate(Clean(c), MaxCell)).ToArray()).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, cleaned.Count == 0 ? 0 : cleaned.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        AppendRow(text, headers, widths);
        foreach (var row in cleaned) AppendRow(text, row, widths);
        return text.ToString();
    }

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0) line.Append("  ");
            line.Append(i == cells.Count - 1 ? cells[i] : cells[i].PadRight(widths[i]));
        }
        text.Append(line.ToString().TrimEnd()).Append('\n');
    }

    /// <summary>Newlines and tabs become spaces; other control, format and bidi characters become U+FFFD.</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var clean = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is '\n' or '\r' or '\t') clean.Append(' ');
            // Zero-width (non-)joiners are Format characters too, but emoji sequences need them and they cannot reorder text.
            else if (char.IsControl(c) || (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format && c is not ('\u200C' or '\u200D'))) clean.Append('\uFFFD');
            else clean.Append(c);
        }
        return clean.ToString();
    }

    public static string Truncate(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");

    /// <summary>1536 -> "1.5 KiB": sizes for reading; --json keeps exact byte counts.</summary>
    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}

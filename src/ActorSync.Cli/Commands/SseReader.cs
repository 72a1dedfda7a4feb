using System.Runtime.CompilerServices;
using System.Text;

namespace ActorSync.Cli.Commands;

/// <summary>
/// Reads a text/event-stream: yields the data of each event (data lines joined by "\n"), skips
/// comment lines (the server's heartbeats) and fields other than data, as the SSE specification says.
/// </summary>
internal static class SseReader
{
    /// <summary>A bound on one event, so a broken or hostile server cannot make the CLI buffer without end.</summary>
    public const int MaxEventChars = 1024 * 1024;

    public static async IAsyncEnumerable<string> ReadAsync(Stream stream, [EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var data = new StringBuilder();
        var hasData = false;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (hasData) yield return data.ToString();
                data.Clear();
                hasData = false;
                continue;
            }
            if (line[0] == ':') continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            if (field != "data") continue;
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' ')) value = value[1..];
            if (hasData) data.Append('\n');
            data.Append(value);
            hasData = true;
            if (data.Length > MaxEventChars) throw new CliException("the peer sent an oversized alert event");
        }
    }
}

using System.Text.Json;
using ActorSync.Peer.Api;

namespace ActorSync.Cli.Commands;

/// <summary>The process's streams and environment, injectable so tests run verbs in-process.</summary>
internal sealed record CliConsole(TextWriter Out, TextWriter Err, TextReader In, Func<Stream> OpenStdout, bool Interactive)
{
    public static CliConsole Standard => new(Console.Out, Console.Error, Console.In, Console.OpenStandardOutput, !Console.IsErrorRedirected);
}

/// <summary>One run of one verb: its parsed arguments, where to write, and (lazily) the client of this home's peer.</summary>
internal sealed class Invocation : IDisposable
{
    /// <summary>Scripts that drive one peer can set this instead of repeating --home.</summary>
    public const string HomeVariable = "ACTORSYNC_HOME";

    private PeerApiClient? api;

    public Invocation(Verb verb, ParsedArgs args, CliConsole console, CancellationToken ct)
    {
        Verb = verb;
        Args = args;
        Console = console;
        Ct = ct;
    }

    public Verb Verb { get; }
    public ParsedArgs Args { get; }
    public CliConsole Console { get; }
    public TextWriter Out => Console.Out;
    public TextWriter Err => Console.Err;
    public CancellationToken Ct { get; }
    public bool Json => Args.Flag("json");

    public string Home
    {
        get
        {
            var home = Args.Value("home") ?? Environment.GetEnvironmentVariable(HomeVariable);
            if (string.IsNullOrWhiteSpace(home)) throw new UsageException($"--home DIR is required (or set {HomeVariable})");
            return home;
        }
    }

    public PeerApiClient Api => api ??= PeerApiClient.ForHome(Home);

    public void PrintJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, ApiJson.Display));

    /// <summary>Prints a listing as JSON with --json, else as the table <paramref name="table"/> renders.</summary>
    public void PrintListing<T>(IReadOnlyList<T> items, Func<IReadOnlyList<T>, string> table, string empty)
    {
        if (Json) PrintJson(items);
        else if (items.Count == 0) Out.WriteLine(empty);
        else Out.Write(table(items));
    }

    /// <summary>A text argument, or standard input when it is "-" (long notes, cards from a pipe).</summary>
    public string Text(string argument) => argument == "-" ? Console.In.ReadToEnd().TrimEnd('\n', '\r') : argument;

    public void Dispose() => api?.Dispose();
}

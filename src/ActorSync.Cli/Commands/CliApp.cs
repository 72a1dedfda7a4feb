using System.Text;
using ActorSync.Cli.Commands.Verbs;

namespace ActorSync.Cli.Commands;

/// <summary>
/// Finds the verb named by the first words of the command line, parses the rest against it, runs
/// it, and turns every failure into one line on stderr and an exit code.
/// </summary>
internal static class CliApp
{
    public static IReadOnlyList<(string Section, IReadOnlyList<Verb> Verbs)> Sections { get; } =
    [
        ("Identity and the peer process", HostVerbs.All),
        ("Contacts", ContactVerbs.All),
        ("Workspaces and members", WorkspaceVerbs.All),
        ("Tools (WS is a workspace id; ID an entry id as the listings print it)", [.. EntryVerbs.All, .. FileVerbs.All]),
        ("Alerts", WatchVerb.All),
        ("Backup (passphrase from ACTORSYNC_PASSPHRASE, else asked on the terminal)", BackupVerbs.All),
        ("Simulation", SimVerb.All),
        ("Performance", BenchVerb.All),
    ];

    public static IEnumerable<Verb> Verbs => Sections.SelectMany(s => s.Verbs);

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken ct)
    {
        if (args.Count == 0 || args[0] is "help" or "--help" or "-h")
        {
            console.Out.Write(Help(args.Skip(1).ToList()));
            return ExitCodes.Ok;
        }
        var (verb, rest) = Find(args);
        if (verb is null)
        {
            var group = Verbs.Where(v => v.Name.StartsWith(args[0] + " ", StringComparison.Ordinal)).ToList();
            console.Err.WriteLine(group.Count > 0
                ? $"actorsync {args[0]}: {(args.Count > 1 ? $"unknown verb '{TextTable.Clean(args[1])}'" : "which one?")} ({string.Join(", ", group.Select(v => v.Name[(args[0].Length + 1)..]))}; see: actorsync help {args[0]})"
                : $"actorsync: unknown verb '{TextTable.Clean(args[0])}' (try: actorsync help)");
            return ExitCodes.Usage;
        }
        try
        {
            var parsed = ArgParser.Parse(rest, verb.FullShape);
            if (parsed.Flag("help"))
            {
                console.Out.Write(Describe(verb));
                return ExitCodes.Ok;
            }
            using var invocation = new Invocation(verb, parsed, console, ct);
            return await verb.Run(invocation);
        }
        catch (UsageException e)
        {
            console.Err.WriteLine($"actorsync {verb.Name}: {e.Message}");
            console.Err.WriteLine($"usage: {verb.Usage}");
            return ExitCodes.Usage;
        }
        catch (CliException e)
        {
            console.Err.WriteLine($"actorsync {verb.Name}: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            console.Err.WriteLine($"actorsync {verb.Name}: interrupted");
            return ExitCodes.Interrupted;
        }
#pragma warning disable CA1031 // The last resort of a CLI: any failure is one readable line, never a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            console.Err.WriteLine($"actorsync {verb.Name}: {Message(e)}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>The longest run of leading words that names a verb ("ws invite" before "ws").</summary>
    internal static (Verb? Verb, IReadOnlyList<string> Remaining) Find(IReadOnlyList<string> args)
    {
        if (args.Count >= 2 && Verbs.FirstOrDefault(v => v.Name == args[0] + " " + args[1]) is { } two) return (two, args.Skip(2).ToList());
        if (Verbs.FirstOrDefault(v => v.Name == args[0]) is { } one) return (one, args.Skip(1).ToList());
        return (null, args);
    }

    internal static string Help(IReadOnlyList<string> topic)
    {
        var text = new StringBuilder();
        var filter = topic.Count > 0 ? string.Join(' ', topic) : null;
        var matching = filter is null ? null : Verbs.Where(v => v.Name == filter || v.Name.StartsWith(filter + " ", StringComparison.Ordinal)).ToList();
        if (matching is { Count: > 0 })
        {
            foreach (var verb in matching) text.Append(Describe(verb));
            return text.ToString();
        }
        text.Append("usage: actorsync VERB [ARGUMENTS] [--home DIR]\n");
        text.Append("Every verb but init, peer and demo talks to the running peer of --home DIR (or $ACTORSYNC_HOME) through its local API.\n");
        text.Append("Listings take --json. Exit codes: 0 ok, 1 failed, 2 bad command line, 3 no peer running, 130 interrupted.\n");
        foreach (var (section, verbs) in Sections)
        {
            text.Append('\n').Append(section).Append('\n');
            foreach (var verb in verbs) text.Append("  ").Append(verb.Usage).Append('\n').Append("      ").Append(verb.Summary).Append('\n');
        }
        return text.ToString();
    }

    private static string Describe(Verb verb) => $"usage: {verb.Usage}\n  {verb.Summary}\n";

    private static string Message(Exception e) => TextTable.Clean(e switch
    {
        // ArgumentException appends " (Parameter 'x')", which means nothing to a user.
        ArgumentException a when a.ParamName is not null => a.Message.Replace($" (Parameter '{a.ParamName}')", "", StringComparison.Ordinal),
        _ => e.Message,
    });
}

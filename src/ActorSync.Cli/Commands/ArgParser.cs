namespace ActorSync.Cli.Commands;

/// <summary>What a verb accepts: how many positional arguments, which --options take a value, which are bare flags.</summary>
internal sealed record VerbShape(int MinPositionals, int MaxPositionals, IReadOnlyList<string> Options, IReadOnlyList<string> Flags)
{
    public static VerbShape Of(int min, int max, string[]? options = null, string[]? flags = null) =>
        new(min, max, options ?? [], flags ?? []);
}

/// <summary>One verb's arguments once parsed: positionals in order, option values (repeatable), flags.</summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> options;
    private readonly HashSet<string> flags;

    public ParsedArgs(IReadOnlyList<string> positionals, Dictionary<string, List<string>> options, HashSet<string> flags)
    {
        Positionals = positionals;
        this.options = options;
        this.flags = flags;
    }

    public IReadOnlyList<string> Positionals { get; }

    public string Positional(int index) => Positionals[index];

    public string? OptionalPositional(int index) => index < Positionals.Count ? Positionals[index] : null;

    /// <summary>The last value given for --name (a later one overrides an earlier one, as in most tools).</summary>
    public string? Value(string name) => options.TryGetValue(name, out var values) ? values[^1] : null;

    public IReadOnlyList<string> Values(string name) => options.TryGetValue(name, out var values) ? values : [];

    public bool Flag(string name) => flags.Contains(name);

    public bool Has(string name) => options.ContainsKey(name) || flags.Contains(name);
}

/// <summary>
/// Plain GNU-style parsing: "--name value", "--name=value", bare "--flag", "--" ends options, and
/// options may come before, between or after positionals. Anything not declared by the verb is a
/// usage error, so a typo never silently changes what a script does.
/// </summary>
internal static class ArgParser
{
    public static ParsedArgs Parse(IReadOnlyList<string> args, VerbShape shape)
    {
        var positionals = new List<string>();
        var options = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var onlyPositionals = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            // "-" alone is a value (stdin), and "-3,4 5,6" is sketchpad points, not an option.
            if (onlyPositionals || !arg.StartsWith('-') || arg == "-" || (arg.Length > 1 && (char.IsAsciiDigit(arg[1]) || arg[1] == '.')))
            {
                positionals.Add(arg);
                continue;
            }
            if (arg == "--")
            {
                onlyPositionals = true;
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new UsageException($"unknown option '{arg}' (options are spelled --name)");
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? arg[2..] : arg[2..eq];
            if (shape.Flags.Contains(name))
            {
                if (eq >= 0) throw new UsageException($"--{name} takes no value");
                flags.Add(name);
            }
            else if (shape.Options.Contains(name))
            {
                string value;
                if (eq >= 0) value = arg[(eq + 1)..];
                else if (i + 1 < args.Count) value = args[++i];
                else throw new UsageException($"--{name} needs a value");
                if (!options.TryGetValue(name, out var values)) options[name] = values = [];
                values.Add(value);
            }
            else
            {
                throw new UsageException($"unknown option '--{name}'");
            }
        }
        if (positionals.Count < shape.MinPositionals) throw new UsageException("missing arguments");
        if (positionals.Count > shape.MaxPositionals)
            throw new UsageException($"unexpected argument '{positionals[shape.MaxPositionals]}'");
        return new ParsedArgs(positionals, options, flags);
    }
}

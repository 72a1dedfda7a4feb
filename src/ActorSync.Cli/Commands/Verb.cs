namespace ActorSync.Cli.Commands;

/// <summary>
/// One `actorsync` verb: its words ("ws invite"), the argument synopsis shown by help, a summary,
/// what it accepts, and what it does. <see cref="NeedsHome"/> verbs also accept --home DIR.
/// </summary>
internal sealed record Verb(string Name, string Synopsis, string Summary, VerbShape Shape, Func<Invocation, Task<int>> Run, bool NeedsHome = true)
{
    public string Usage => NeedsHome
        ? $"actorsync {Name} --home DIR{(Synopsis.Length > 0 ? " " + Synopsis : "")}"
        : $"actorsync {Name}{(Synopsis.Length > 0 ? " " + Synopsis : "")}";

    /// <summary>The shape the parser checks: the verb's own plus --home and --help.</summary>
    public VerbShape FullShape => Shape with
    {
        Options = NeedsHome ? [.. Shape.Options, "home"] : Shape.Options,
        Flags = [.. Shape.Flags, "help"],
    };
}

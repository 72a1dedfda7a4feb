using System.Globalization;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>
/// The entry tools (discussion, chat, calendar, notepad, sketchpad, pictures): one shape of verbs
/// over one API route each. Field names are those of <c>EntrySchema</c>; the peer checks values.
/// </summary>
internal static class EntryVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("discussion post", "WS TEXT [--reply-to ID] [--title T]", "start a topic or reply to one; prints the entry id",
            VerbShape.Of(2, 2, ["reply-to", "title"]),
            inv => Create(inv, ToolKind.Discussion, ("text", inv.Text(inv.Args.Positional(1))), ("replyTo", inv.Args.Value("reply-to")), ("title", inv.Args.Value("title")))),
        List("discussion", "list", ToolKind.Discussion, "topics and replies: id, author, text, replyTo",
            [Column("ID", e => e.Id), Column("AUTHOR", Render.Author), Column("TIME", e => e.Time), Column("REPLY TO", e => Render.Field(e, "replyTo")),
             Column("TITLE", e => Render.Field(e, "title")), Column("TEXT", e => Render.Field(e, "text"))]),
        new("discussion edit", "WS ID [TEXT] [--title T]", "change a topic's text or title",
            VerbShape.Of(2, 3, ["title"]),
            inv => Edit(inv, ToolKind.Discussion, ("text", inv.Args.OptionalPositional(2) is { } t ? inv.Text(t) : null), ("title", inv.Args.Value("title")))),
        Delete("discussion", ToolKind.Discussion),

        new("chat say", "WS TEXT", "post a chat line; prints its id",
            VerbShape.Of(2, 2), inv => Create(inv, ToolKind.Chat, ("text", inv.Text(inv.Args.Positional(1))))),
        List("chat", "log", ToolKind.Chat, "the chat log",
            [Column("TIME", e => e.Time), Column("AUTHOR", Render.Author), Column("TEXT", e => Render.Field(e, "text"))]),

        new("calendar add", "WS TITLE --start ISO [--end ISO] [--location L] [--notes N]", "add an event (times without an offset are local); prints its id",
            VerbShape.Of(2, 2, ["start", "end", "location", "notes"]),
            inv => Create(inv, ToolKind.Calendar, ("title", inv.Args.Positional(1)),
                ("start", When(inv.Args.Value("start") ?? throw new UsageException("--start ISO is required"), "start")),
                ("end", When(inv.Args.Value("end"), "end")), ("location", inv.Args.Value("location")), ("notes", inv.Args.Value("notes")))),
        List("calendar", "list", ToolKind.Calendar, "events",
            [Column("ID", e => e.Id), Column("START", e => Render.Field(e, "start")), Column("END", e => Render.Field(e, "end")),
             Column("TITLE", e => Render.Field(e, "title")), Column("LOCATION", e => Render.Field(e, "location")), Column("AUTHOR", Render.Author)]),
        new("calendar edit", "WS ID [--title T] [--start ISO] [--end ISO] [--location L] [--notes N]", "change an event",
            VerbShape.Of(2, 2, ["title", "start", "end", "location", "notes"]),
            inv => Edit(inv, ToolKind.Calendar, ("title", inv.Args.Value("title")), ("start", When(inv.Args.Value("start"), "start")),
                ("end", When(inv.Args.Value("end"), "end")), ("location", inv.Args.Value("location")), ("notes", inv.Args.Value("notes")))),
        Delete("calendar", ToolKind.Calendar),

        new("notepad add", "WS TITLE [TEXT]", "add a note (TEXT - reads stdin); prints its id",
            VerbShape.Of(2, 3),
            inv => Create(inv, ToolKind.Notepad, ("title", inv.Args.Positional(1)), ("text", inv.Args.OptionalPositional(2) is { } t ? inv.Text(t) : null))),
        List("notepad", "list", ToolKind.Notepad, "notes",
            [Column("ID", e => e.Id), Column("TITLE", e => Render.Field(e, "title")), Column("AUTHOR", Render.Author), Column("TEXT", e => Render.Field(e, "text"))]),
        new("notepad edit", "WS ID [TEXT] [--title T]", "change a note",
            VerbShape.Of(2, 3, ["title"]),
            inv => Edit(inv, ToolKind.Notepad, ("text", inv.Args.OptionalPositional(2) is { } t ? inv.Text(t) : null), ("title", inv.Args.Value("title")))),
        Delete("notepad", ToolKind.Notepad),

        new("sketchpad add", "WS POINTS [--color C] [--width W]", "add a stroke; POINTS is \"x,y x,y ...\"; prints its id",
            VerbShape.Of(2, 2, ["color", "width"]),
            inv => Create(inv, ToolKind.Sketchpad, ("points", inv.Args.Positional(1)), ("color", inv.Args.Value("color")), ("width", inv.Args.Value("width")))),
        List("sketchpad", "list", ToolKind.Sketchpad, "strokes",
            [Column("ID", e => e.Id), Column("AUTHOR", Render.Author), Column("COLOR", e => Render.Field(e, "color")), Column("WIDTH", e => Render.Field(e, "width")),
             Column("POINTS", e => Render.Field(e, "points"))]),
        new("sketchpad edit", "WS ID [POINTS] [--color C] [--width W]", "change a stroke",
            VerbShape.Of(2, 3, ["color", "width"]),
            inv => Edit(inv, ToolKind.Sketchpad, ("points", inv.Args.OptionalPositional(2)), ("color", inv.Args.Value("color")), ("width", inv.Args.Value("width")))),
        Delete("sketchpad", ToolKind.Sketchpad),

        new("pictures add", "WS FILE [--caption C] [--name NAME]",
            "upload FILE into the files tool as NAME, then add a picture entry naming it with its SHA-256 and size; prints the entry id",
            VerbShape.Of(2, 2, ["caption", "name"]), AddPicture),
        List("pictures", "list", ToolKind.Pictures, "pictures (their bytes are in the files tool under NAME)",
            [Column("ID", e => e.Id), Column("NAME", e => Render.Field(e, "name")),
             Column("SIZE", e => long.TryParse(Render.Field(e, "size"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? TextTable.Size(n) : ""),
             Column("AUTHOR", Render.Author), Column("CAPTION", e => Render.Field(e, "caption"))]),
        new("pictures edit", "WS ID [--caption C] [--name NAME]", "re-caption or rename a picture entry",
            VerbShape.Of(2, 2, ["caption", "name"]),
            inv => Edit(inv, ToolKind.Pictures, ("caption", inv.Args.Value("caption")), ("name", inv.Args.Value("name")))),
        Delete("pictures", ToolKind.Pictures, " (its file stays in the files tool)"),
    ];

    internal static string Route(string ws, ToolKind kind, string? entry = null) => entry is null
        ? PeerApiClient.Route("v1", "workspaces", ws, "tools", ToolName(kind), "entries")
        : PeerApiClient.Route("v1", "workspaces", ws, "tools", ToolName(kind), "entries", entry);

#pragma warning disable CA1308 // Tool names are lower case in routes and on the command line alike.
    internal static string ToolName(ToolKind kind) => kind.ToString().ToLowerInvariant();
#pragma warning restore CA1308

    /// <summary>The fields given on the command line, leaving out those not given.</summary>
    internal static Dictionary<string, string?> Fields(params (string Name, string? Value)[] given) =>
        given.Where(f => f.Value is not null).ToDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal);

    /// <summary>"2025-06-01 10:00" (local) -> "2025-06-01T10:00:00+02:00": an explicit offset, so every member reads the same instant.</summary>
    internal static string? When(string? text, string option)
    {
        if (text is null) return null;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var when))
            throw new UsageException($"--{option} '{TextTable.Clean(text)}' is not a date and time (e.g. 2025-06-01T18:30 or 2025-06-01T18:30:00+02:00)");
        return when.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
    }

    private static async Task<int> Create(Invocation inv, ToolKind kind, params (string Name, string? Value)[] fields)
    {
        var ws = inv.Args.Positional(0);
        var created = await inv.Api.SendAsync<CreatedId>(HttpMethod.Post, Route(ws, kind), new EntryRequest(Fields(fields)), inv.Ct);
        inv.Out.WriteLine(created.Id);
        return ExitCodes.Ok;
    }

    private static async Task<int> Edit(Invocation inv, ToolKind kind, params (string Name, string? Value)[] fields)
    {
        var (ws, id) = (inv.Args.Positional(0), inv.Args.Positional(1));
        var changes = Fields(fields);
        if (changes.Count == 0) throw new UsageException("nothing to change");
        await inv.Api.SendAsync(HttpMethod.Put, Route(ws, kind, id), new EntryRequest(changes), inv.Ct);
        inv.Out.WriteLine($"edited {id}");
        return ExitCodes.Ok;
    }

    private static Verb List(string tool, string word, ToolKind kind, string summary, IReadOnlyList<EntryColumn> columns) =>
        new($"{tool} {word}", "WS [--json]", summary, VerbShape.Of(1, 1, flags: ["json"]), async inv =>
        {
            var entries = await inv.Api.GetAsync<List<EntryView>>(Route(inv.Args.Positional(0), kind), inv.Ct);
            inv.PrintListing(entries, e => Render.Entries(columns, e), $"(no {tool} entries yet)");
            return ExitCodes.Ok;
        });

    private static Verb Delete(string tool, ToolKind kind, string note = "") =>
        new($"{tool} delete", "WS ID", $"delete an entry{note}", VerbShape.Of(2, 2), async inv =>
        {
            var (ws, id) = (inv.Args.Positional(0), inv.Args.Positional(1));
            await inv.Api.SendAsync(HttpMethod.Delete, Route(ws, kind, id), null, inv.Ct);
            inv.Out.WriteLine($"deleted {id}");
            return ExitCodes.Ok;
        });

    private static EntryColumn Column(string header, Func<EntryView, string> value) => new(header, value);

    private static async Task<int> AddPicture(Invocation inv)
    {
        var (ws, path) = (inv.Args.Positional(0), inv.Args.Positional(1));
        var name = inv.Args.Value("name") ?? Path.GetFileName(path);
        // The entry's hash and size are of exactly the bytes sent, hashed as they stream out.
        var upload = await FileVerbs.UploadAsync(inv, ws, path, name);
        var fields = Fields(("name", upload.Stored.Name), ("contentHash", upload.Sha256), ("size", upload.Bytes.ToString(CultureInfo.InvariantCulture)),
            ("caption", inv.Args.Value("caption")));
        var created = await inv.Api.SendAsync<CreatedId>(HttpMethod.Post, Route(ws, ToolKind.Pictures), new EntryRequest(fields), inv.Ct);
        inv.Out.WriteLine(created.Id);
        return ExitCodes.Ok;
    }
}

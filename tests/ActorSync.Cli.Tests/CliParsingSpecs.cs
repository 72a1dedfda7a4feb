using System.Text;
using ActorSync.Cli.Commands;
using ActorSync.Cli.Commands.Verbs;
using ActorSync.Peer.Api;
using Xunit;

namespace ActorSync.Cli.Tests;

/// <summary>The pure parts of the CLI: argument parsing, verb lookup, tables and SSE framing.</summary>
public sealed class CliParsingSpecs
{
    private static readonly VerbShape PostShape = VerbShape.Of(2, 2, ["reply-to", "title", "relay"], ["json"]);

    [Fact]
    public void ArgParser_should_take_options_anywhere_in_both_spellings()
    {
        var args = ArgParser.Parse(["--title", "Plan", "ws1", "--reply-to=dev1.2", "hello world", "--json"], PostShape);

        Assert.Equal(["ws1", "hello world"], args.Positionals);
        Assert.Equal("Plan", args.Value("title"));
        Assert.Equal("dev1.2", args.Value("reply-to"));
        Assert.True(args.Flag("json"));
        Assert.Null(args.Value("relay"));
    }

    [Fact]
    public void ArgParser_should_keep_every_value_of_a_repeated_option_and_answer_the_last()
    {
        var args = ArgParser.Parse(["ws1", "x", "--relay", "a:1", "--relay", "b:2"], PostShape);
        Assert.Equal(["a:1", "b:2"], args.Values("relay"));
        Assert.Equal("b:2", args.Value("relay"));
    }

    [Fact]
    public void ArgParser_should_read_dashes_after_a_double_dash_and_negative_numbers_as_positionals()
    {
        var args = ArgParser.Parse(["ws1", "--", "--not-an-option"], PostShape);
        Assert.Equal(["ws1", "--not-an-option"], args.Positionals);

        var points = ArgParser.Parse(["ws1", "-3,4 5,-6"], PostShape);
        Assert.Equal("-3,4 5,-6", points.Positional(1));

        var stdin = ArgParser.Parse(["ws1", "-"], PostShape);
        Assert.Equal("-", stdin.Positional(1));
    }

    [Theory]
    [InlineData(new[] { "ws1", "x", "--frob" }, "unknown option '--frob'")]
    [InlineData(new[] { "ws1", "x", "-v" }, "unknown option '-v' (options are spelled --name)")]
    [InlineData(new[] { "ws1", "x", "--json=yes" }, "--json takes no value")]
    [InlineData(new[] { "ws1", "x", "--title" }, "--title needs a value")]
    [InlineData(new[] { "ws1" }, "missing arguments")]
    [InlineData(new[] { "ws1", "x", "y" }, "unexpected argument 'y'")]
    public void ArgParser_should_refuse_what_the_verb_does_not_declare(string[] args, string error)
    {
        var e = Assert.Throws<UsageException>(() => ArgParser.Parse(args, PostShape));
        Assert.Equal(error, e.Message);
    }

    [Fact]
    public void CliApp_should_find_two_word_verbs_before_one_word_verbs()
    {
        var (verb, rest) = CliApp.Find(["ws", "invite", "--home", "h", "ws1", "acc"]);
        Assert.Equal("ws invite", verb!.Name);
        Assert.Equal(["--home", "h", "ws1", "acc"], rest);

        Assert.Equal("watch", CliApp.Find(["watch", "--json"]).Verb!.Name);
        Assert.Null(CliApp.Find(["ws", "frob"]).Verb);
    }

    [Fact]
    public void CliApp_should_name_every_verb_of_the_issue_in_its_help()
    {
        var help = CliApp.Help([]);
        string[] verbs =
        [
            "init", "peer", "card", "contact add", "contact list", "ws create", "ws list", "ws show", "ws invite", "ws invitations", "ws accept",
            "ws uninvite", "ws role", "ws reinvite", "ws permissions", "ws permit", "discussion post", "discussion list", "discussion edit", "discussion delete", "files put", "files get",
            "files list", "chat say", "chat log", "calendar add", "calendar list", "calendar edit", "calendar delete", "notepad add", "notepad list",
            "notepad edit", "notepad delete", "sketchpad add", "sketchpad list", "sketchpad delete", "pictures add", "pictures list",
            "pictures delete", "watch", "demo",
        ];
        foreach (var verb in verbs) Assert.Contains($"  actorsync {verb} ", help + " ", StringComparison.Ordinal);
        Assert.Contains("actorsync ws invite --home DIR WS ACCOUNT [--role manager|participant|guest]", help, StringComparison.Ordinal);
        Assert.Contains("actorsync discussion post --home DIR WS TEXT [--reply-to ID]", help, StringComparison.Ordinal);
        Assert.Contains("actorsync files get --home DIR WS NAME OUT", help, StringComparison.Ordinal);
        Assert.Contains("actorsync watch --home DIR [--ws WS] [--json]", help, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_listing_verb_should_accept_json()
    {
        foreach (var verb in CliApp.Verbs.Where(v => v.Name.EndsWith(" list", StringComparison.Ordinal) || v.Name is "ws show" or "ws invitations" or "chat log" or "watch"))
            Assert.Contains("json", verb.Shape.Flags);
    }

    [Fact]
    public void TextTable_should_align_columns_and_neutralise_terminal_escapes_and_bidi_overrides()
    {
        var table = TextTable.Format(["ID", "TEXT"], [["a", "one\ntwo"], ["bbbb", "\u001b[31mred\u001b[0m \u202Egnp.exe"]]);

        Assert.Equal("ID    TEXT\na     one two\nbbbb  \uFFFD[31mred\uFFFD[0m \uFFFDgnp.exe\n", table);
        Assert.DoesNotContain('\u001b', table);
    }

    [Fact]
    public void TextTable_should_shorten_long_cells_and_keep_emoji_joiners()
    {
        var cell = TextTable.Format(["T"], [[new string('x', 200)]]).Split('\n')[1];
        Assert.Equal(TextTable.MaxCell, cell.Length);
        Assert.EndsWith("…", cell, StringComparison.Ordinal);
        Assert.Equal("👩\u200D💻", TextTable.Clean("👩\u200D💻"));
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5 GiB")]
    public void TextTable_should_print_sizes_in_binary_units(long bytes, string text) => Assert.Equal(text, TextTable.Size(bytes));

    [Fact]
    public void Render_should_show_a_workspace_with_a_greppable_state_hash_and_one_row_per_member_device()
    {
        var text = Render.Workspace(Support.RecordingFacade.Details);
        var lines = text.Split('\n');

        Assert.Contains($"stateHash:  {new string('a', 64)}", lines);
        Assert.Contains("deltas:     42 applied, 1 waiting for dependencies, 0 parked, 2 rejected", lines);
        Assert.Contains(lines, l => l.StartsWith("Ann     acc1     manager      dev1    online    direct  42", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Bob     acc2     participant  -", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_should_print_join_progress_and_alerts_on_one_clean_line()
    {
        Assert.Equal("receiving the first copy of ws1: 1 delta (waiting for a member)", Render.Progress(new JoinProgress("ws1", false, 1, "waiting for a member")));
        Assert.Equal("joined ws1 (12 deltas)", Render.Joined(new JoinProgress("ws1", true, 12, null)));
        Assert.Equal("2025-06-01T10:00:00Z  presence    -  Cat is online \uFFFD[2J", Render.Alert(new AlertView("2025-06-01T10:00:00Z", "presence", null, "Cat is online\n\u001b[2J")));
    }

    [Fact]
    public void EntryVerbs_should_send_only_the_fields_given_and_normalise_times_to_an_explicit_offset()
    {
        Assert.Equal(new Dictionary<string, string?> { ["text"] = "hi" }, EntryVerbs.Fields(("text", "hi"), ("replyTo", null)));
        Assert.Equal("2025-06-01T18:30:00+02:00", EntryVerbs.When("2025-06-01T18:30:00+02:00", "start"));
        Assert.Equal("2025-06-01T16:30:00+00:00", EntryVerbs.When("2025-06-01T16:30:00Z", "start"));
        Assert.Null(EntryVerbs.When(null, "end"));
        Assert.Equal("--start 'tomorrow' is not a date and time (e.g. 2025-06-01T18:30 or 2025-06-01T18:30:00+02:00)",
            Assert.Throws<UsageException>(() => EntryVerbs.When("tomorrow", "start")).Message);
        Assert.Equal("v1/workspaces/ws1/tools/sketchpad/entries/dev1.7", EntryVerbs.Route("ws1", Core.Permissions.ToolKind.Sketchpad, "dev1.7"));
    }

    [Fact]
    public void PeerApiClient_should_escape_route_segments_but_keep_folder_slashes_in_file_names()
    {
        Assert.Equal("v1/workspaces/a%2Fb/members/x%20y", PeerApiClient.Route("v1", "workspaces", "a/b", "members", "x y"));
        Assert.Equal("v1/workspaces/ws1/files/docs/my%20plan%3F.txt", PeerApiClient.FileRoute("ws1", "docs/my plan?.txt"));
        Assert.Equal("plan.txt", FileVerbs.LastSegment("docs/plan.txt"));
        Assert.Throws<UsageException>(() => FileVerbs.LastSegment("docs/.."));
    }

    [Fact]
    public async Task SseReader_should_join_data_lines_skip_comments_and_other_fields()
    {
        const string wire = ": watching\n\ndata: {\"a\":1}\n\nevent: x\nid: 3\ndata: one\ndata:two\r\n\r\n: keepalive\n\ndata\n\nretry: 10\n\n";
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(wire));
        var events = new List<string>();
        await foreach (var e in SseReader.ReadAsync(stream, CancellationToken.None)) events.Add(e);

        Assert.Equal(["{\"a\":1}", "one\ntwo", ""], events);
    }

    [Fact]
    public void ProgressLine_should_print_only_changes_when_not_on_a_terminal()
    {
        using var err = new StringWriter();
        var line = new ProgressLine(err, interactive: false);
        line.Show(new JoinProgress("ws1", false, 0, null));
        line.Show(new JoinProgress("ws1", false, 0, null));
        line.Show(new JoinProgress("ws1", false, 5, null));
        line.Finish();

        Assert.Equal("receiving the first copy of ws1: 0 deltas\nreceiving the first copy of ws1: 5 deltas\n", err.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void TransferProgress_should_print_quarters_when_not_on_a_terminal_and_nothing_for_small_files()
    {
        using var err = new StringWriter();
        var progress = new TransferProgress(err, interactive: false, "uploading", "big.bin", 40L << 20);
        for (long sent = 0; sent <= 40L << 20; sent += 64 * 1024) progress.Report(sent);
        progress.Finish();
        Assert.Equal(
            "uploading big.bin: 0% of 40 MiB\nuploading big.bin: 25% of 40 MiB\nuploading big.bin: 50% of 40 MiB\nuploading big.bin: 75% of 40 MiB\nuploading big.bin: 100% of 40 MiB\n",
            err.ToString().ReplaceLineEndings("\n"));

        using var quiet = new StringWriter();
        var small = new TransferProgress(quiet, interactive: true, "uploading", "small.txt", 1024);
        small.Report(1024);
        small.Finish();
        Assert.Equal("", quiet.ToString());
    }

    [Fact]
    public void TransferProgress_should_redraw_one_line_in_place_on_a_terminal()
    {
        using var err = new StringWriter();
        var progress = new TransferProgress(err, interactive: true, "downloading", "big.bin", 16L << 20);
        progress.Report(8L << 20);
        progress.Report(16L << 20);
        progress.Finish();
        var text = err.ToString();
        Assert.StartsWith("\rdownloading big.bin: 8 MiB of 16 MiB (50%)", text, StringComparison.Ordinal);
        Assert.Contains("\rdownloading big.bin: 16 MiB of 16 MiB (100%)", text, StringComparison.Ordinal);
        // One line, ended once the transfer is over.
        Assert.Equal(Environment.NewLine, text[text.IndexOf(Environment.NewLine, StringComparison.Ordinal)..]);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using ActorSync.Cli.Tests.Support;
using ActorSync.Peer.Api;
using Xunit;

namespace ActorSync.Cli.Tests;

/// <summary>`actorsync` verbs run in-process against a real <see cref="ApiServer"/> over a <see cref="RecordingFacade"/>.</summary>
public sealed class CliVerbSpecs
{
    private const int Timeout = 120_000;

    [Fact(Timeout = Timeout)]
    public async Task Workspace_verbs_should_call_the_api_and_print_what_scripts_need()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();

        var create = await CliRun.RunAsync("ws", "create", "--home", home, "Garden club");
        Assert.Equal((0, "ws1\n", ""), (create.ExitCode, create.Out.ToString(), create.Err.ToString()));

        var invite = await CliRun.RunAsync("ws", "invite", "--home", home, "ws1", "acc2", "--role", "Guest");
        Assert.Equal(0, invite.ExitCode);
        var role = await CliRun.RunAsync("ws", "role", "--home", home, "ws1", "acc2", "manager");
        Assert.Equal(0, role.ExitCode);
        var uninvite = await CliRun.RunAsync("ws", "uninvite", "--home", home, "ws1", "acc2");
        Assert.Equal(0, uninvite.ExitCode);
        var permit = await CliRun.RunAsync("ws", "permit", "--home", home, "ws1", "Files", "guest", "view, create");
        Assert.Equal((0, "guests may now view, create in files of ws1\n"), (permit.ExitCode, permit.Out.ToString()));
        var none = await CliRun.RunAsync("ws", "permit", "--home", home, "ws1", "chat", "guest", "none");
        Assert.Equal(0, none.ExitCode);
        var unknown = await CliRun.RunAsync("ws", "permit", "--home", home, "ws1", "chat", "guest", "view,fly");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("unknown permission 'fly'", unknown.Err.ToString());
        var listing = await CliRun.RunAsync("ws", "permissions", "--home", home, "ws1");
        Assert.Contains("view,create", listing.Out.ToString());
        Assert.Contains("a manager", listing.Out.ToString());

        Assert.Equal(
            ["CreateWorkspaceAsync(Garden club)", "InviteAsync(ws1, acc2, Guest)", "ChangeRoleAsync(ws1, acc2, Manager)", "UninviteAsync(ws1, acc2)",
             "SetPermissionsAsync(ws1, Files, Guest, View, Create)", "SetPermissionsAsync(ws1, Chat, Guest, None)", "PermissionsAsync(ws1)"],
            api.Facade.Calls);
    }

    [Fact(Timeout = Timeout)]
    public async Task Listing_verbs_should_print_a_table_or_with_json_the_views_themselves()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();

        var table = await CliRun.RunAsync("ws", "list", "--home", home);
        Assert.Equal("ID   NAME         ROLE     MEMBERS\nws1  Garden club  manager  2\n", table.Out.ToString());

        var json = await CliRun.RunAsync("ws", "list", "--home", home, "--json");
        var parsed = JsonSerializer.Deserialize<List<WorkspaceSummary>>(json.Out.ToString(), ApiJson.Wire);
        Assert.Equal([new WorkspaceSummary("ws1", "Garden club", "manager", 2)], parsed);

        var show = await CliRun.RunAsync("ws", "show", "--home", home, "ws1", "--json");
        using var doc = JsonDocument.Parse(show.Out.ToString());
        Assert.Equal(new string('a', 64), doc.RootElement.GetProperty("stateHash").GetString());

        var discussion = await CliRun.RunAsync("discussion", "list", "--home", home, "ws1");
        Assert.Equal("ID      AUTHOR  TIME                  REPLY TO  TITLE  TEXT\ndev1.7  Ann     2025-06-01T10:00:00Z  dev2.1           hello\n",
            discussion.Out.ToString());

        foreach (var verb in new[] { "contact list", "ws invitations", "files list ws1", "chat log ws1", "calendar list ws1", "pictures list ws1" })
        {
            var run = await CliRun.RunAsync([.. verb.Split(' '), "--home", home, "--json"]);
            Assert.Equal(0, run.ExitCode);
            Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(run.Out.ToString()).RootElement.ValueKind);
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task Entry_verbs_should_send_the_tool_fields_named_by_the_schema()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();

        string[][] runs =
        [
            ["discussion", "post", "ws1", "Shall we dig?", "--reply-to", "dev2.1", "--title", "Digging"],
            ["discussion", "edit", "ws1", "dev1.7", "Dig on Sunday"],
            ["chat", "say", "ws1", "hello"],
            ["calendar", "add", "ws1", "Dig", "--start", "2025-06-01T10:00:00+02:00", "--end", "2025-06-01T12:00:00+02:00", "--location", "plot 4"],
            ["notepad", "add", "ws1", "Seeds", "-"],
            ["notepad", "edit", "ws1", "dev1.7", "--title", "Seeds 2025"],
            ["sketchpad", "add", "ws1", "-1,2 3.5,4", "--color", "#ff0000", "--width", "3"],
            ["sketchpad", "delete", "ws1", "dev1.7"],
            ["pictures", "edit", "ws1", "dev1.8", "--caption", "The plot"],
            ["calendar", "delete", "ws1", "dev1.9"],
        ];
        foreach (var args in runs)
        {
            var run = new CliRun { Stdin = "carrots\nbeans\n" };
            Assert.Equal(0, await run.ExecuteAsync([.. args, "--home", home], CancellationToken.None));
        }

        Assert.Equal(
        [
            "CreateEntryAsync(ws1, Discussion, {replyTo=dev2.1, text=Shall we dig?, title=Digging})",
            "EditEntryAsync(ws1, Discussion, dev1.7, {text=Dig on Sunday})",
            "CreateEntryAsync(ws1, Chat, {text=hello})",
            "CreateEntryAsync(ws1, Calendar, {end=2025-06-01T12:00:00+02:00, location=plot 4, start=2025-06-01T10:00:00+02:00, title=Dig})",
            "CreateEntryAsync(ws1, Notepad, {text=carrots\nbeans, title=Seeds})",
            "EditEntryAsync(ws1, Notepad, dev1.7, {title=Seeds 2025})",
            "CreateEntryAsync(ws1, Sketchpad, {color=#ff0000, points=-1,2 3.5,4, width=3})",
            "DeleteEntryAsync(ws1, Sketchpad, dev1.7)",
            "EditEntryAsync(ws1, Pictures, dev1.8, {caption=The plot})",
            "DeleteEntryAsync(ws1, Calendar, dev1.9)",
        ], api.Facade.Calls);
    }

    [Fact(Timeout = Timeout)]
    public async Task Create_verbs_should_print_only_the_new_id()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        var post = await CliRun.RunAsync("discussion", "post", "--home", home, "ws1", "hi");
        Assert.Equal("dev1.7\n", post.Out.ToString());
    }

    [Fact(Timeout = Timeout)]
    public async Task Files_put_of_a_long_file_should_report_progress_on_stderr_in_a_few_lines_when_not_on_a_terminal()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        var bytes = RandomNumberGenerator.GetBytes(20 * 1024 * 1024);
        var source = Path.Combine(home, "big.bin");
        await File.WriteAllBytesAsync(source, bytes);

        var put = await CliRun.RunAsync("files", "put", "--home", home, "ws1", source);
        Assert.Equal(0, put.ExitCode);
        Assert.Equal(bytes, api.Facade.Files["big.bin"]);
        var lines = put.Err.ToString().ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 2, 5);
        Assert.Equal("uploading big.bin: 100% of 20 MiB", lines[^1]);
        Assert.StartsWith("stored big.bin: 20 MiB", put.Out.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Files_verbs_should_round_trip_a_file_and_pictures_add_should_name_its_hash_and_size()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        var bytes = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 3);
        var source = Path.Combine(home, "photo.jpg");
        await File.WriteAllBytesAsync(source, bytes);

        var put = await CliRun.RunAsync("files", "put", "--home", home, "ws1", source, "--name", "garden/photo 1.jpg");
        Assert.Equal(0, put.ExitCode);
        Assert.Equal(bytes, api.Facade.Files["garden/photo 1.jpg"]);

        var target = Path.Combine(home, "out.jpg");
        var get = await CliRun.RunAsync("files", "get", "--home", home, "ws1", "garden/photo 1.jpg", target);
        Assert.Equal(0, get.ExitCode);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(target));

        var folder = Directory.CreateDirectory(Path.Combine(home, "downloads")).FullName;
        Assert.Equal(0, (await CliRun.RunAsync("files", "get", "--home", home, "ws1", "garden/photo 1.jpg", folder)).ExitCode);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(folder, "photo 1.jpg")));

        var stdout = await CliRun.RunAsync("files", "get", "--home", home, "ws1", "garden/photo 1.jpg", "-");
        Assert.Equal(bytes, stdout.Stdout.ToArray());

        var missing = await CliRun.RunAsync("files", "get", "--home", home, "ws1", "nope.txt", Path.Combine(home, "nope.txt"));
        Assert.Equal((1, "actorsync files get: no file 'nope.txt'\n"), (missing.ExitCode, missing.Err.ToString()));
        // A failed download leaves neither the target nor a partial file behind.
        Assert.False(File.Exists(Path.Combine(home, "nope.txt")));
        Assert.Empty(Directory.GetFiles(home, "*.partial"));

        var picture = await CliRun.RunAsync("pictures", "add", "--home", home, "ws1", source, "--caption", "June");
        Assert.Equal((0, "dev1.7\n"), (picture.ExitCode, picture.Out.ToString()));
        Assert.Equal(bytes, api.Facade.Files["photo.jpg"]);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        Assert.Equal($"CreateEntryAsync(ws1, Pictures, {{caption=June, contentHash={hash}, name=photo.jpg, size={bytes.Length}}})", api.Facade.Last);
    }

    [Fact(Timeout = Timeout)]
    public async Task Ws_accept_should_show_progress_until_the_first_copy_is_complete()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        api.Facade.AcceptAnswer = new JoinProgress("ws9", false, 3, "receiving from Ann");
        api.Facade.JoinSteps.Enqueue(new JoinProgress("ws9", false, 7, "receiving from Ann"));
        api.Facade.JoinSteps.Enqueue(new JoinProgress("ws9", true, 12, null));

        var run = await CliRun.RunAsync("ws", "accept", "--home", home, "ws9");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("joined ws9 (12 deltas)\n", run.Out.ToString());
        var progress = run.Err.ToString();
        Assert.Contains("receiving the first copy of ws9: 3 deltas (receiving from Ann)\n", progress, StringComparison.Ordinal);
        Assert.Contains("receiving the first copy of ws9: 7 deltas (receiving from Ann)\n", progress, StringComparison.Ordinal);
        Assert.Equal("AcceptAsync(ws9)", api.Facade.Calls.First());
    }

    [Fact(Timeout = Timeout)]
    public async Task Watch_should_print_alerts_until_interrupted()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        using var stop = new CancellationTokenSource();
        var run = new CliRun();
        var watching = run.ExecuteAsync(["watch", "--home", home, "--ws", "ws1", "--json"], stop.Token);
        await api.Facade.WatchStarted.Task.WaitAsync(TestApi.Patience);

        await api.Facade.Alerts.Writer.WriteAsync(new AlertView("2025-06-01T10:00:00Z", "chat", "ws1", "Bob: hi"));
        await api.Facade.Alerts.Writer.WriteAsync(new AlertView("2025-06-01T10:00:01Z", "member", "ws1", "Cat joined"));
        await Eventually.True(() => run.Out.ToString().Split('\n').Length > 2, "two alerts printed");
        await stop.CancelAsync();

        Assert.Equal(0, await watching.WaitAsync(TestApi.Patience));
        Assert.Equal(
            "{\"time\":\"2025-06-01T10:00:00Z\",\"kind\":\"chat\",\"workspace\":\"ws1\",\"text\":\"Bob: hi\"}\n" +
            "{\"time\":\"2025-06-01T10:00:01Z\",\"kind\":\"member\",\"workspace\":\"ws1\",\"text\":\"Cat joined\"}\n",
            run.Out.ToString());
        await api.Facade.WatchEnded.Task.WaitAsync(TestApi.Patience);
    }

    [Fact(Timeout = Timeout)]
    public async Task Watch_should_fail_when_the_peer_ends_the_stream()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        await api.Facade.Alerts.Writer.WriteAsync(new AlertView("2025-06-01T10:00:00Z", "chat", "ws1", "Bob: hi"));
        api.Facade.Alerts.Writer.Complete();

        var run = await CliRun.RunAsync("watch", "--home", home);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("2025-06-01T10:00:00Z  chat        ws1  Bob: hi\n", run.Out.ToString());
        Assert.Equal("actorsync watch: the peer ended the alert stream (did it stop?)\n", run.Err.ToString());
    }

    [Fact(Timeout = Timeout)]
    public async Task Verbs_should_report_a_refusal_on_one_line_with_a_non_zero_exit()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        api.Facade.Fail = new PeerRequestException("you are a guest in ws1: guests cannot invite", 403);

        var run = await CliRun.RunAsync("ws", "invite", "--home", home, "ws1", "acc2");

        Assert.Equal((1, ""), (run.ExitCode, run.Out.ToString()));
        Assert.Equal("actorsync ws invite: you are a guest in ws1: guests cannot invite\n", run.Err.ToString());
    }

    [Fact(Timeout = Timeout)]
    public async Task Verbs_should_say_so_when_no_peer_is_running()
    {
        using var scratch = new Scratch();
        var home = scratch.Path;
        var run = await CliRun.RunAsync("ws", "list", "--home", home);
        Assert.Equal((3, $"actorsync ws list: no peer is running for {home} (start it with: actorsync peer --home {home})\n"), (run.ExitCode, run.Err.ToString()));

        // A stale address (the peer was killed): nothing listens there any more.
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            await File.WriteAllTextAsync(Path.Combine(home, "api-address"), $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}\n");
            await File.WriteAllTextAsync(Path.Combine(home, "api-token"), TestApi.Token);
        }
        var stale = await CliRun.RunAsync("card", "--home", home);
        Assert.Equal(3, stale.ExitCode);
        Assert.StartsWith("actorsync card: no peer is running for ", stale.Err.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeout)]
    public async Task Verbs_should_refuse_an_api_address_off_this_machine_and_report_a_wrong_token()
    {
        await using var api = await TestApi.StartAsync();
        var home = api.WriteHome();
        await File.WriteAllTextAsync(Path.Combine(home, "api-token"), "not-the-token-not-the-token");
        var refused = await CliRun.RunAsync("ws", "list", "--home", home);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refused the token in", refused.Err.ToString(), StringComparison.Ordinal);

        await File.WriteAllTextAsync(Path.Combine(home, "api-address"), "http://203.0.113.5:8080\n");
        var remote = await CliRun.RunAsync("ws", "list", "--home", home);
        Assert.Equal(1, remote.ExitCode);
        Assert.Contains("does not hold a local API address", remote.Err.ToString(), StringComparison.Ordinal);
        Assert.Empty(api.Facade.Calls);
    }

    [Theory(Timeout = Timeout)]
    [InlineData(new[] { "ws", "invite", "--home", "h", "ws1" }, "actorsync ws invite: missing arguments\nusage: actorsync ws invite --home DIR WS ACCOUNT [--role manager|participant|guest]\n")]
    [InlineData(new[] { "ws", "invite", "--home", "h", "ws1", "acc", "--role", "owner" }, "actorsync ws invite: unknown role 'owner' (manager|participant|guest)\nusage: actorsync ws invite --home DIR WS ACCOUNT [--role manager|participant|guest]\n")]
    [InlineData(new[] { "calendar", "add", "--home", "h", "ws1", "Dig" }, "actorsync calendar add: --start ISO is required\nusage: actorsync calendar add --home DIR WS TITLE --start ISO [--end ISO] [--location L] [--notes N]\n")]
    [InlineData(new[] { "notepad", "edit", "--home", "h", "ws1", "dev1.2" }, "actorsync notepad edit: nothing to change\nusage: actorsync notepad edit --home DIR WS ID [TEXT] [--title T]\n")]
    [InlineData(new[] { "ws" }, "actorsync ws: which one? (create, list, show, invite, invitations, accept, uninvite, role, reinvite, permissions, permit, export, import; see: actorsync help ws)\n")]
    [InlineData(new[] { "frobnicate" }, "actorsync: unknown verb 'frobnicate' (try: actorsync help)\n")]
    public async Task Verbs_should_refuse_a_wrong_command_line_with_exit_code_2_before_calling_the_peer(string[] args, string error)
    {
        var run = await CliRun.RunAsync(args);
        Assert.Equal((2, error), (run.ExitCode, run.Err.ToString()));
    }

    [Fact(Timeout = Timeout)]
    public async Task Init_should_create_an_identity_and_print_its_account_id_once()
    {
        using var scratch = new Scratch();
        var home = Path.Combine(scratch.Path, "ann");
        const string relay = "https://127.0.0.1:9000#abababababababababababababababababababababababababababababababab";
        var run = await CliRun.RunAsync("init", "--home", home, "--name", "Ann", "--relay", relay);
        Assert.Equal((0, ""), (run.ExitCode, run.Err.ToString()));
        Assert.True(Core.Identity.AccountId.TryParse(run.Out.ToString().Trim(), out _));
        Assert.Equal([relay], await File.ReadAllLinesAsync(Path.Combine(home, "relays")));

        var again = await CliRun.RunAsync("init", "--home", home, "--name", "Ann");
        Assert.Equal((1, $"actorsync init: {home} already holds an identity\n"), (again.ExitCode, again.Err.ToString()));
    }

    [Fact(Timeout = Timeout)]
    public async Task Init_should_refuse_a_relay_that_is_not_a_pinned_relay_address()
    {
        using var scratch = new Scratch();
        var home = Path.Combine(scratch.Path, "ann");
        var run = await CliRun.RunAsync("init", "--home", home, "--name", "Ann", "--relay", "127.0.0.1:9000");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("is not a relay address", run.Err.ToString(), StringComparison.Ordinal);
        Assert.False(Peer.Home.PeerHome.Exists(home));
    }

    [Fact(Timeout = Timeout)]
    public async Task Demo_should_still_tell_its_story()
    {
        var run = await CliRun.RunAsync("demo", "1");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("ActorSync in-process story (seed 1)", run.Out.ToString(), StringComparison.Ordinal);
    }

    /// <summary>A temporary folder removed when the test ends.</summary>
    private sealed class Scratch : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("actorsync-cli-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ActorSync.Cli.Commands;
using ActorSync.Cli.Tests.Support;
using ActorSync.Peer.Api;
using Xunit;

namespace ActorSync.Cli.Tests;

public sealed class ApiServerSpecs
{
    private const int Timeout = 120_000;

    [Theory(Timeout = Timeout)]
    [InlineData(null)]
    [InlineData("wrong-token-wrong-token-wrong-token")]
    [InlineData("0123456789abcdef0123456789abcde")] // the right token less its last character
    [InlineData("0123456789abcdef0123456789abcdef0")]
    public async Task ApiServer_should_refuse_requests_without_the_right_token(string? token)
    {
        await using var api = await TestApi.StartAsync();
        using var client = api.Authorized(token);

        foreach (var (method, path) in new[] { ("GET", "v1/info"), ("POST", "v1/workspaces"), ("GET", "v1/no/such/route"), ("PUT", "v1/workspaces/ws1/files/a.txt"),
                     ("GET", "v1/workspaces/ws1/export"), ("POST", "v1/workspaces/import") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new StringContent("{\"name\":\"x\"}", Encoding.UTF8, "application/json") };
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("missing or wrong API token", (await response.Content.ReadFromJsonAsync<ApiError>())!.Error);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        }
        Assert.Empty(api.Facade.Calls);
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_refuse_a_basic_or_unprefixed_token()
    {
        await using var api = await TestApi.StartAsync();
        using var client = api.Authorized(null);
        foreach (var header in new[] { TestApi.Token, "Basic " + TestApi.Token, "Bearer" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/info");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Empty(api.Facade.Calls);
    }

    public static TheoryData<string, string, string?, HttpStatusCode, string> Routes => new()
    {
        { "GET", "v1/info", null, HttpStatusCode.OK, "InfoAsync()" },
        { "GET", "v1/card", null, HttpStatusCode.OK, "CardAsync()" },
        { "POST", "v1/contacts", """{"card":"CARD","address":"127.0.0.1:7000"}""", HttpStatusCode.Created, "AddContactAsync(CARD, 127.0.0.1:7000)" },
        { "POST", "v1/contacts", """{"card":"CARD"}""", HttpStatusCode.Created, "AddContactAsync(CARD, null)" },
        { "GET", "v1/contacts", null, HttpStatusCode.OK, "ContactsAsync()" },
        { "POST", "v1/workspaces", """{"name":"Garden club"}""", HttpStatusCode.Created, "CreateWorkspaceAsync(Garden club)" },
        { "GET", "v1/workspaces", null, HttpStatusCode.OK, "WorkspacesAsync()" },
        { "GET", "v1/workspaces/ws1", null, HttpStatusCode.OK, "ShowWorkspaceAsync(ws1)" },
        { "POST", "v1/workspaces/ws1/invite", """{"account":"acc2","role":"guest"}""", HttpStatusCode.NoContent, "InviteAsync(ws1, acc2, Guest)" },
        { "POST", "v1/workspaces/ws1/invite", """{"account":"acc2"}""", HttpStatusCode.NoContent, "InviteAsync(ws1, acc2, Participant)" },
        { "GET", "v1/invitations", null, HttpStatusCode.OK, "InvitationsAsync()" },
        { "POST", "v1/workspaces/ws9/accept", null, HttpStatusCode.OK, "AcceptAsync(ws9)" },
        { "GET", "v1/workspaces/ws9/join", null, HttpStatusCode.OK, "JoinProgressAsync(ws9)" },
        { "DELETE", "v1/workspaces/ws1/members/acc2", null, HttpStatusCode.NoContent, "UninviteAsync(ws1, acc2)" },
        { "PUT", "v1/workspaces/ws1/members/acc2/role", """{"role":"Manager"}""", HttpStatusCode.NoContent, "ChangeRoleAsync(ws1, acc2, Manager)" },
        { "PUT", "v1/workspaces/ws1/permissions/chat/guest", """{"permissions":["view"]}""", HttpStatusCode.NoContent, "SetPermissionsAsync(ws1, Chat, Guest, View)" },
        { "PUT", "v1/workspaces/ws1/permissions/workspace/participant", """{"permissions":[]}""", HttpStatusCode.NoContent,
            "SetPermissionsAsync(ws1, Workspace, Participant, None)" },
        { "GET", "v1/workspaces/ws1/permissions", null, HttpStatusCode.OK, "PermissionsAsync(ws1)" },
        { "POST", "v1/workspaces/ws1/tools/discussion/entries", """{"fields":{"text":"hi","replyTo":"dev2.1"}}""", HttpStatusCode.Created,
            "CreateEntryAsync(ws1, Discussion, {replyTo=dev2.1, text=hi})" },
        { "POST", "v1/workspaces/ws1/tools/calendar/entries", """{"fields":{"title":"Dig","start":"2025-06-01T10:00:00+02:00"}}""", HttpStatusCode.Created,
            "CreateEntryAsync(ws1, Calendar, {start=2025-06-01T10:00:00+02:00, title=Dig})" },
        { "GET", "v1/workspaces/ws1/tools/chat/entries", null, HttpStatusCode.OK, "EntriesAsync(ws1, Chat)" },
        { "PUT", "v1/workspaces/ws1/tools/notepad/entries/dev1.7", """{"fields":{"text":"new"}}""", HttpStatusCode.NoContent,
            "EditEntryAsync(ws1, Notepad, dev1.7, {text=new})" },
        { "DELETE", "v1/workspaces/ws1/tools/sketchpad/entries/dev1.7", null, HttpStatusCode.NoContent, "DeleteEntryAsync(ws1, Sketchpad, dev1.7)" },
        { "DELETE", "v1/workspaces/ws1/tools/Pictures/entries/dev1.8", null, HttpStatusCode.NoContent, "DeleteEntryAsync(ws1, Pictures, dev1.8)" },
        { "GET", "v1/workspaces/ws1/files", null, HttpStatusCode.OK, "FilesAsync(ws1)" },
        { "GET", "v1/workspaces/ws1/export", null, HttpStatusCode.OK, "ExportWorkspaceAsync(ws1)" },
        { "POST", "v1/workspaces/import", "bundle bytes", HttpStatusCode.Created, "ImportWorkspaceAsync()" },
    };

    [Theory(Timeout = Timeout)]
    [MemberData(nameof(Routes))]
    public async Task ApiServer_should_map_each_route_to_its_facade_call(string method, string path, string? body, HttpStatusCode status, string call)
    {
        await using var api = await TestApi.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");

        using var response = await api.Client.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal([call], api.Facade.Calls);
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_answer_in_camel_case_json()
    {
        await using var api = await TestApi.StartAsync();

        var created = await api.Client.PostAsJsonAsync("v1/workspaces", new { name = "Garden club" });
        Assert.Equal("""{"id":"ws1"}""", await created.Content.ReadAsStringAsync());
        Assert.Equal("application/json", created.Content.Headers.ContentType?.MediaType);

        using var show = JsonDocument.Parse(await api.Client.GetStringAsync("v1/workspaces/ws1"));
        Assert.Equal(new string('a', 64), show.RootElement.GetProperty("stateHash").GetString());
        Assert.Equal("Ann", show.RootElement.GetProperty("members")[0].GetProperty("name").GetString());
        Assert.Equal(42, show.RootElement.GetProperty("members")[0].GetProperty("devices")[0].GetProperty("appliedDeltas").GetInt64());

        var entries = await api.Client.GetFromJsonAsync<List<EntryView>>("v1/workspaces/ws1/tools/discussion/entries", ApiJson.Wire);
        Assert.Equal("dev2.1", entries![0].Fields["replyTo"]);
        Assert.Equal("""{"card":"card-text"}""", await api.Client.GetStringAsync("v1/card"));
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_answer_a_refusal_with_its_status_and_message()
    {
        await using var api = await TestApi.StartAsync();
        api.Facade.Fail = new PeerRequestException("no workspace 'ws7' on this device", 404);

        using var response = await api.Client.GetAsync("v1/workspaces/ws7");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("""{"error":"no workspace 'ws7' on this device"}""", await response.Content.ReadAsStringAsync());
    }

    [Theory(Timeout = Timeout)]
    [InlineData("GET", "v1/workspaces")]
    [InlineData("POST", "v1/workspaces/ws1/tools/chat/entries")]
    [InlineData("GET", "v1/watch")]
    [InlineData("GET", "v1/workspaces/ws1/files/a.txt")]
    public async Task ApiServer_should_hide_the_details_of_an_unexpected_failure(string method, string path)
    {
        await using var api = await TestApi.StartAsync();
        api.Facade.Fail = new InvalidOperationException("epoch key 9f86d081884c7d65 could not be unwrapped at /home/ann/.actorsync");
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST") request.Content = JsonContent.Create(new { fields = new { text = "hi" } });

        using var response = await api.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("internal error in the peer (details are in the peer's log)", JsonSerializer.Deserialize<ApiError>(text, ApiJson.Wire)!.Error);
        Assert.DoesNotContain("9f86", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperation", text, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string?, string?, HttpStatusCode, string> BadRequests => new()
    {
        { "POST", "v1/workspaces", "{not json", "application/json", HttpStatusCode.BadRequest, "malformed JSON in the request body" },
        { "POST", "v1/workspaces", "{}", "application/json", HttpStatusCode.BadRequest, "field 'name' is required" },
        { "POST", "v1/workspaces", """{"name":null}""", "application/json", HttpStatusCode.BadRequest, "field 'name' is required" },
        { "POST", "v1/workspaces", """{"name":"x"}""", "text/plain", HttpStatusCode.UnsupportedMediaType, "expected a JSON body (Content-Type: application/json)" },
        { "POST", "v1/workspaces", null, null, HttpStatusCode.BadRequest, "malformed request" },
        { "POST", "v1/workspaces", "", "application/json", HttpStatusCode.BadRequest, "malformed request" },
        { "PATCH", "v1/workspaces", null, null, HttpStatusCode.MethodNotAllowed, "this route does not take that method" },
        { "POST", "v1/workspaces/ws1/invite", """{"account":"acc2","role":"owner"}""", "application/json", HttpStatusCode.BadRequest,
            "unknown role 'owner' (manager, participant or guest)" },
        { "POST", "v1/workspaces/ws1/invite", """{"account":"acc2","role":"3"}""", "application/json", HttpStatusCode.BadRequest,
            "unknown role '3' (manager, participant or guest)" },
        { "POST", "v1/workspaces/ws1/tools/files/entries", """{"fields":{"text":"x"}}""", "application/json", HttpStatusCode.NotFound,
            "no entry tool 'files' (discussion, chat, calendar, notepad, sketchpad, pictures)" },
        { "GET", "v1/workspaces/ws1/tools/workspace/entries", null, null, HttpStatusCode.NotFound,
            "no entry tool 'workspace' (discussion, chat, calendar, notepad, sketchpad, pictures)" },
        { "POST", "v1/workspaces/ws1/tools/chat/entries", """{"fields":{}}""", "application/json", HttpStatusCode.BadRequest,
            "field 'fields' is required (an object of entry fields)" },
        { "POST", "v1/workspaces/ws1/tools/chat/entries", """{"fields":{"text":null}}""", "application/json", HttpStatusCode.BadRequest, "entry field 'text' is null" },
        { "GET", "v1/nothing/here.txt", null, null, HttpStatusCode.NotFound, "no such route (see: actorsync help)" },
    };

    [Theory(Timeout = Timeout)]
    [MemberData(nameof(BadRequests))]
    public async Task ApiServer_should_refuse_malformed_requests_with_a_json_error_before_the_facade(
        string method, string path, string? body, string? contentType, HttpStatusCode status, string error)
    {
        await using var api = await TestApi.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType!);

        using var response = await api.Client.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(error, (await response.Content.ReadFromJsonAsync<ApiError>())!.Error);
        Assert.Empty(api.Facade.Calls);
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_refuse_oversized_json_and_files_with_413()
    {
        await using var api = await TestApi.StartAsync(new ApiLimits { MaxJsonBytes = 1024, MaxFileBytes = 4096 });

        using var json = await api.Client.PostAsync("v1/workspaces",
            new StringContent(JsonSerializer.Serialize(new { name = new string('x', 5000) }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, json.StatusCode);
        Assert.Equal("request body too large", (await json.Content.ReadFromJsonAsync<ApiError>())!.Error);

        using var fits = await api.Client.PutAsync("v1/workspaces/ws1/files/small.bin", new ByteArrayContent(new byte[4096]));
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);

        // Streamed without a length, so the limit bites while reading, inside the facade's copy.
        using var big = await api.Client.PutAsync("v1/workspaces/ws1/files/big.bin", new StreamContent(new UnseekableStream(new byte[20_000])));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.False(api.Facade.Files.ContainsKey("big.bin"));
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_round_trip_file_bytes_under_names_with_folders_and_spaces()
    {
        await using var api = await TestApi.StartAsync();
        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        const string name = "docs/my plan (v2)%.bin";
        var route = PeerApiClient.FileRoute("ws1", name);

        using var put = await api.Client.PutAsync(route, new StreamContent(new UnseekableStream(bytes)));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var stored = await put.Content.ReadFromJsonAsync<FileInfoView>(ApiJson.Wire);
        Assert.Equal(name, stored!.Name);
        Assert.Equal(bytes.Length, stored.Size);
        Assert.Equal(bytes, api.Facade.Files[name]);

        using var get = await api.Client.GetAsync(route);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("application/octet-stream", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal([$"PutFileAsync(ws1, {name})", $"GetFileAsync(ws1, {name})"], api.Facade.Calls);

        using var missing = await api.Client.GetAsync(PeerApiClient.FileRoute("ws1", "nope.txt"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("no file 'nope.txt'", (await missing.Content.ReadFromJsonAsync<ApiError>())!.Error);
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_stream_alerts_as_server_sent_events_and_stop_watching_when_the_client_leaves()
    {
        await using var api = await TestApi.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/watch?ws=ws1");
        var response = await api.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ws1", await api.Facade.WatchStarted.Task.WaitAsync(TestApi.Patience));

        var sent = new[]
        {
            new AlertView("2025-06-01T10:00:00Z", "entry", "ws1", "Bob posted in discussion"),
            new AlertView("2025-06-01T10:00:01Z", "presence", null, "Cat is online\nagain"),
        };
        foreach (var alert in sent) await api.Facade.Alerts.Writer.WriteAsync(alert);

        var stream = await response.Content.ReadAsStreamAsync();
        var received = new List<AlertView>();
        await using (var events = SseReader.ReadAsync(stream, CancellationToken.None).GetAsyncEnumerator())
        {
            while (received.Count < sent.Length && await events.MoveNextAsync())
                received.Add(JsonSerializer.Deserialize<AlertView>(events.Current, ApiJson.Wire)!);
        }
        Assert.Equal(sent, received);

        response.Dispose();
        await api.Facade.WatchEnded.Task.WaitAsync(TestApi.Patience);
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_watch_every_workspace_without_a_ws_parameter_and_refuse_an_unknown_one_with_404()
    {
        await using (var api = await TestApi.StartAsync())
        {
            using var response = await api.Client.GetAsync("v1/watch", HttpCompletionOption.ResponseHeadersRead);
            Assert.Null(await api.Facade.WatchStarted.Task.WaitAsync(TestApi.Patience));
        }
        await using (var api = await TestApi.StartAsync())
        {
            api.Facade.Fail = new PeerRequestException("no workspace 'ws7' on this device", 404);
            using var response = await api.Client.GetAsync("v1/watch?ws=ws7", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_send_heartbeats_on_an_idle_watch_and_end_open_streams_when_disposed()
    {
        var api = await TestApi.StartAsync(new ApiLimits { Heartbeat = TimeSpan.FromMilliseconds(50) });
        using var response = await api.Client.GetAsync("v1/watch", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await api.Facade.WatchStarted.Task.WaitAsync(TestApi.Patience);
        while (await reader.ReadLineAsync() is { } line && line != ": keepalive")
        {
        }

        await api.DisposeAsync().AsTask().WaitAsync(TestApi.Patience);
        await api.Facade.WatchEnded.Task.WaitAsync(TestApi.Patience);
        // The stream ends (cleanly or cut) instead of hanging.
        try
        {
            while (await reader.ReadLineAsync().WaitAsync(TestApi.Patience) is not null)
            {
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_bind_127_0_0_1_only_and_report_the_port_it_got()
    {
        await using var api = await TestApi.StartAsync();
        var url = new Uri(api.Server.Url);
        Assert.Equal("http", url.Scheme);
        Assert.Equal("127.0.0.1", url.Host);
        Assert.NotEqual(0, url.Port);
        Assert.Equal(api.Server.Url, api.Server.Url.TrimEnd('/'));

        foreach (var listen in new[] { "0.0.0.0:0", "192.168.1.2:8080", "[::]:0", "8080", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:-1" })
            await Assert.ThrowsAsync<ArgumentException>(() => ApiServer.StartAsync(new RecordingFacade(), listen, TestApi.Token, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => ApiServer.StartAsync(new RecordingFacade(), "127.0.0.1:0", "short", CancellationToken.None));
    }

    [Fact(Timeout = Timeout)]
    public async Task ApiServer_should_speak_http_1_1()
    {
        await using var api = await TestApi.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/info") { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await api.Client.SendAsync(request);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.False(response.Headers.Contains("Server"));
    }

    /// <summary>Forces a chunked upload (no Content-Length), as a pipe would.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}

using System.Net.Http.Headers;
using ActorSync.Peer.Api;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorSync.Cli.Tests.Support;

/// <summary>A real <see cref="ApiServer"/> on 127.0.0.1 port 0 over a <see cref="RecordingFacade"/>, with a client holding the token.</summary>
internal sealed class TestApi : IAsyncDisposable
{
    public const string Token = "0123456789abcdef0123456789abcdef";
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private TestApi(ApiServer server, RecordingFacade facade)
    {
        Server = server;
        Facade = facade;
        Client = Authorized(Token);
    }

    private readonly List<string> homes = [];

    public ApiServer Server { get; }
    public RecordingFacade Facade { get; }
    public HttpClient Client { get; }

    public static async Task<TestApi> StartAsync(ApiLimits? limits = null)
    {
        var facade = new RecordingFacade();
        using var cts = new CancellationTokenSource(Patience);
        var server = await ApiServer.StartAsync(facade, "127.0.0.1:0", Token, NullLoggerFactory.Instance, limits ?? new ApiLimits(), cts.Token);
        return new TestApi(server, facade);
    }

    /// <summary>A client with the given bearer token (null: no Authorization header at all).</summary>
    public HttpClient Authorized(string? token)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(Server.Url + "/"), Timeout = Patience };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A home folder as a running peer leaves it: the API address and token files.</summary>
    public string WriteHome()
    {
        var home = Directory.CreateTempSubdirectory("actorsync-cli-").FullName;
        homes.Add(home);
        File.WriteAllText(Path.Combine(home, "api-address"), Server.Url + "\n");
        File.WriteAllText(Path.Combine(home, "api-token"), Token);
        return home;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        foreach (var home in homes) Directory.Delete(home, recursive: true);
    }
}

/// <summary>A TextWriter that many threads may write while a test reads it.</summary>
internal sealed class LockedWriter : TextWriter
{
    private readonly System.Text.StringBuilder text = new();

    public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

    public override void Write(char value)
    {
        lock (text) text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (text) text.Append(value);
    }

    public override string ToString()
    {
        lock (text) return text.ToString();
    }
}

/// <summary>Waits for a condition by polling, with a generous bound instead of a fixed sleep.</summary>
internal static class Eventually
{
    public static Task True(Func<bool> condition, string what) => ActorSync.Tests.Shared.Poll.Until(condition, what, TestApi.Patience);
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ActorSync.Peer.Api;
using ActorSync.Peer.Home;

namespace ActorSync.Cli.Commands;

/// <summary>
/// The CLI's side of the local API: finds the running peer through the address and token files in
/// its home, and turns every failure into a <see cref="CliException"/> with a line worth printing.
/// </summary>
internal sealed class PeerApiClient : IDisposable
{
    /// <summary>Bound on ordinary calls; transfers, accept and watch run as long as they need to.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(2);

    private readonly HttpClient http;
    private readonly string home;

    private PeerApiClient(HttpClient http, string home)
    {
        this.http = http;
        this.home = home;
    }

    public Uri BaseAddress => http.BaseAddress!;

    public static PeerApiClient ForHome(string home)
    {
        var addressFile = Path.Combine(home, PeerHome.ApiAddressFile);
        var tokenFile = Path.Combine(home, PeerHome.TokenFile);
        if (!File.Exists(addressFile) || !File.Exists(tokenFile)) throw new PeerNotRunningException(home);
        var address = File.ReadAllText(addressFile).Trim();
        var token = File.ReadAllText(tokenFile).Trim();
        // The token goes wherever this address points: only ever to this machine.
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || !uri.IsLoopback)
            throw new CliException($"{addressFile} does not hold a local API address (http://127.0.0.1:PORT)");
        if (token.Length == 0) throw new PeerNotRunningException(home);
        return Create(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), token, home);
    }

    public static PeerApiClient Create(Uri baseAddress, string token, string home)
    {
        var handler = new SocketsHttpHandler
        {
            // An HTTP_PROXY in the environment must never see the bearer token.
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new PeerApiClient(http, home);
    }

    /// <summary>"v1", "workspaces", ws -> "v1/workspaces/ws", each segment escaped.</summary>
    public static string Route(params string[] segments) => string.Join('/', segments.Select(Uri.EscapeDataString));

    /// <summary>A workspace file name as a path tail: its '/' stay separators, everything else is escaped.</summary>
    public static string FileRoute(string workspace, string name) =>
        Route("v1", "workspaces", workspace, "files") + "/" + string.Join('/', name.Split('/').Select(Uri.EscapeDataString));

    public Task<T> GetAsync<T>(string route, CancellationToken ct) => CallAsync<T>(HttpMethod.Get, route, null, ct);

    public Task<T> SendAsync<T>(HttpMethod method, string route, object? body, CancellationToken ct) => CallAsync<T>(method, route, body, ct);

    public async Task SendAsync(HttpMethod method, string route, object? body, CancellationToken ct)
    {
        using var timeout = Bounded(ct);
        using var response = await Send(Request(method, route, body), HttpCompletionOption.ResponseContentRead, timeout.Token, ct);
    }

    /// <summary>A call with no time bound (accept waits for the first copy); the caller's token still ends it.</summary>
    public async Task<T> SendUnboundedAsync<T>(HttpMethod method, string route, object? body, CancellationToken ct)
    {
        using var response = await Send(Request(method, route, body), HttpCompletionOption.ResponseContentRead, ct, ct);
        return await Read<T>(response, ct);
    }

    public async Task<T> UploadAsync<T>(string route, Stream content, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, route) { Content = new StreamContent(content) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await Send(request, HttpCompletionOption.ResponseContentRead, ct, ct);
        return await Read<T>(response, ct);
    }

    /// <summary>Posts a stream (an import) and reads the JSON answer; no time bound, as for uploads.</summary>
    public async Task<T> PostStreamAsync<T>(string route, Stream content, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new StreamContent(content) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await Send(request, HttpCompletionOption.ResponseContentRead, ct, ct);
        return await Read<T>(response, ct);
    }

    public async Task DownloadAsync(string route, Stream destination, CancellationToken ct)
    {
        using var response = await Send(new HttpRequestMessage(HttpMethod.Get, route), HttpCompletionOption.ResponseHeadersRead, ct, ct);
        try
        {
            await response.Content.CopyToAsync(destination, ct);
        }
        catch (HttpRequestException)
        {
            throw new CliException("the download broke off before the end (the peer stopped or failed; nothing complete was written)");
        }
        catch (IOException)
        {
            throw new CliException("the download broke off before the end (the peer stopped or failed; nothing complete was written)");
        }
    }

    /// <summary>The data of each server-sent event of <paramref name="route"/> until the server ends the stream.</summary>
    /// <param name="opened">Called once the response headers are in: the peer subscribes before it answers, so every event from then on comes.</param>
    public async IAsyncEnumerable<string> EventsAsync(string route, [EnumeratorCancellation] CancellationToken ct, Action? opened = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, route);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await Send(request, HttpCompletionOption.ResponseHeadersRead, ct, ct);
        opened?.Invoke();
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        await using var events = SseReader.ReadAsync(stream, ct).GetAsyncEnumerator(ct);
        while (true)
        {
            try
            {
                if (!await events.MoveNextAsync()) yield break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !ct.IsCancellationRequested)
            {
                throw new CliException("the peer closed the alert stream (did it stop?)");
            }
            yield return events.Current;
        }
    }

    private async Task<T> CallAsync<T>(HttpMethod method, string route, object? body, CancellationToken ct)
    {
        using var timeout = Bounded(ct);
        using var response = await Send(Request(method, route, body), HttpCompletionOption.ResponseContentRead, timeout.Token, ct);
        return await Read<T>(response, timeout.Token);
    }

    private static CancellationTokenSource Bounded(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(CallTimeout);
        return cts;
    }

    private static HttpRequestMessage Request(HttpMethod method, string route, object? body)
    {
        var request = new HttpRequestMessage(method, route);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ApiJson.Wire);
        return request;
    }

    /// <param name="ct">Ends the call, whether by the user or by a time bound.</param>
    /// <param name="user">The user's own token: its cancellation is an interruption, not a timeout.</param>
    private async Task<HttpResponseMessage> Send(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct, CancellationToken user)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new PeerNotRunningException(home);
        }
        catch (HttpRequestException)
        {
            throw new CliException($"the peer at {BaseAddress} broke off the request (did it stop?)");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && !user.IsCancellationRequested)
        {
            throw new CliException($"the peer did not answer within {CallTimeout.TotalMinutes:0} minutes");
        }
        finally
        {
            request.Dispose();
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            throw await Failure(response, ct);
        }
    }

    private async Task<CliException> Failure(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            return new PeerApiException(status, $"the peer at {BaseAddress} refused the token in {Path.Combine(home, PeerHome.TokenFile)} (is it this home's peer?)");
        string? message = null;
        try
        {
            message = (await response.Content.ReadFromJsonAsync<ApiError>(ApiJson.Wire, ct))?.Error;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or HttpRequestException or IOException)
        {
            // Not an API error body (a proxy, or a peer of another version): fall back on the status.
        }
        return new PeerApiException(status, TextTable.Clean(message ?? $"the peer answered {status} {response.ReasonPhrase}"));
    }

    private static async Task<T> Read<T>(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(ApiJson.Wire, ct)
                   ?? throw new CliException("the peer answered with an empty body");
        }
        catch (JsonException)
        {
            throw new CliException("the peer answered with JSON this CLI does not understand (are the peer and CLI the same version?)");
        }
    }

    public void Dispose() => http.Dispose();
}

using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ActorSync.Peer.Api;

/// <summary>
/// GET /v1/watch as server-sent events: one <c>data:</c> line of JSON (an <see cref="AlertView"/>) per
/// event, and a comment line as a heartbeat while nothing happens, so a client behind a dead peer
/// or a half-open connection finds out instead of waiting forever.
/// </summary>
internal static class AlertStream
{
    private static readonly byte[] Opened = Encoding.UTF8.GetBytes(": watching\n\n");
    private static readonly byte[] Beat = Encoding.UTF8.GetBytes(": keepalive\n\n");

    public static async Task Run(HttpContext ctx, IPeerFacade facade, string? workspace, TimeSpan heartbeat, CancellationToken stopping)
    {
        // The server's own stop ends streams too: Kestrel would otherwise wait for them until its shutdown timeout.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, stopping);
        var ct = cts.Token;
        // Subscribed before answering, so every alert after the client sees the headers is
        // delivered, and a refusal (an unknown workspace) is still a 4xx.
        IAsyncEnumerator<AlertView> alerts;
        try
        {
            alerts = (await facade.WatchAsync(workspace, ct)).GetAsyncEnumerator(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return; // gone (or the server stopping) before the stream started
        }
        Task<bool>? next = null;
        try
        {
            next = alerts.MoveNextAsync().AsTask();
            if (next.IsFaulted) await next;

            ctx.Response.ContentType = "text/event-stream";
            ctx.Response.Headers.CacheControl = "no-cache";
            ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await Write(ctx, Opened, ct);

            var beat = Task.Delay(heartbeat, ct);
            while (true)
            {
                var done = await Task.WhenAny(next, beat);
                if (done == beat)
                {
                    ct.ThrowIfCancellationRequested();
                    await Write(ctx, Beat, ct);
                    beat = Task.Delay(heartbeat, ct);
                    continue;
                }
                if (!await next) break;
                next = null;
                await Write(ctx, Frame(alerts.Current), ct);
                next = alerts.MoveNextAsync().AsTask();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Client gone or server stopping: the stream simply ends.
        }
        finally
        {
            await cts.CancelAsync();
            await Release(alerts, next);
        }
    }

    /// <summary>One SSE event: "data: {json}\n\n". JSON escapes newlines, so one data line is always enough.</summary>
    internal static byte[] Frame(AlertView alert)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(alert, ApiJson.Wire);
        var frame = new byte[6 + json.Length + 2];
        "data: "u8.CopyTo(frame);
        json.CopyTo(frame, 6);
        frame[^2] = (byte)'\n';
        frame[^1] = (byte)'\n';
        return frame;
    }

    private static async Task Write(HttpContext ctx, byte[] bytes, CancellationToken ct)
    {
        await ctx.Response.Body.WriteAsync(bytes, ct);
        await ctx.Response.Body.FlushAsync(ct);
    }

    private static async Task Release(IAsyncEnumerator<AlertView> alerts, Task<bool>? pending)
    {
        // An async iterator cannot be disposed while a MoveNextAsync is in flight; the cancelled
        // token should end it promptly, and a facade that ignores the token is not waited on forever.
        if (pending is not null)
        {
            try
            {
                await pending.WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception) when (pending.IsCompleted)
            {
                // Its outcome no longer matters: the stream is over.
            }
            catch (TimeoutException)
            {
                return;
            }
        }
        await alerts.DisposeAsync();
    }
}

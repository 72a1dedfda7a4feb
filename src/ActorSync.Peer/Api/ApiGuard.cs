using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace ActorSync.Peer.Api;

/// <summary>
/// The two checks every request passes: the bearer token, and the translation of failures into
/// one-line JSON errors. Kept apart from the routes so no route can forget either.
/// </summary>
internal sealed class ApiGuard
{
    private readonly byte[] expectedDigest;
    private readonly ILogger logger;

    public ApiGuard(string token, ILogger logger)
    {
        // Comparing digests keeps the comparison constant-time even when lengths differ.
        expectedDigest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        this.logger = logger;
    }

    /// <summary>Outermost: turns whatever a handler throws into a status and a safe message.</summary>
    public async Task CatchFailures(HttpContext ctx, RequestDelegate next)
    {
        // Every answer is JSON, bytes or an event stream; no browser should guess otherwise.
        ctx.Response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            await next(ctx);
            // Routing answers some refusals itself (no route, wrong method, not JSON) with an empty
            // body; give those the same JSON shape as every other error.
            if (!ctx.Response.HasStarted && ctx.Response.StatusCode >= 400)
                await WriteError(ctx, ctx.Response.StatusCode, Describe(ctx.Response.StatusCode));
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception e)
        {
            await Answer(ctx, e);
        }
    }

    /// <summary>Second: nothing past here runs without the token, not even body parsing or 404s.</summary>
    public Task RequireToken(HttpContext ctx, RequestDelegate next)
    {
        if (Authorized(ctx.Request.Headers.Authorization.ToString())) return next(ctx);
        ApiLog.Unauthorized(logger, ctx.Request.Method, RouteOf(ctx));
        ctx.Response.Headers.WWWAuthenticate = "Bearer";
        return WriteError(ctx, StatusCodes.Status401Unauthorized, "missing or wrong API token");
    }

    private bool Authorized(string header)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, expectedDigest);
    }

    private async Task Answer(HttpContext ctx, Exception e)
    {
        var (status, message) = Classify(e);
        var route = RouteOf(ctx);
        if (ctx.Response.HasStarted)
        {
            // Half a download or half an event stream cannot be turned into an error any more; cutting
            // the connection is the only way the client learns that what it got is incomplete.
            ApiLog.FailedMidResponse(logger, e, ctx.Request.Method, route, e.GetType().Name);
            ctx.Abort();
            return;
        }
        if (status == StatusCodes.Status500InternalServerError) ApiLog.Failed(logger, e, ctx.Request.Method, route, e.GetType().Name);
        else ApiLog.Refused(logger, ctx.Request.Method, route, status, message);
        await WriteError(ctx, status, message);
    }

    /// <summary>Maps an exception to what the client may see; only <see cref="PeerRequestException"/> messages pass through verbatim.</summary>
    internal static (int Status, string Message) Classify(Exception e) => e switch
    {
        PeerRequestException p => (p.Status is >= 400 and <= 599 ? p.Status : StatusCodes.Status400BadRequest, p.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (StatusCodes.Status413PayloadTooLarge, "request body too large"),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } => (StatusCodes.Status415UnsupportedMediaType, "expected a JSON body (Content-Type: application/json)"),
        BadHttpRequestException { InnerException: JsonException } => (StatusCodes.Status400BadRequest, "malformed JSON in the request body"),
        BadHttpRequestException b => (b.StatusCode, "malformed request"),
        JsonException => (StatusCodes.Status400BadRequest, "malformed JSON in the request body"),
        TimeoutException => (StatusCodes.Status504GatewayTimeout, "the peer did not answer in time"),
        OperationCanceledException => (StatusCodes.Status503ServiceUnavailable, "the peer is stopping or busy; try again"),
        _ => (StatusCodes.Status500InternalServerError, "internal error in the peer (details are in the peer's log)"),
    };

    private static string Describe(int status) => status switch
    {
        StatusCodes.Status404NotFound => "no such route (see: actorsync help)",
        StatusCodes.Status405MethodNotAllowed => "this route does not take that method",
        StatusCodes.Status413PayloadTooLarge => "request body too large",
        StatusCodes.Status415UnsupportedMediaType => "expected a JSON body (Content-Type: application/json)",
        _ => "malformed request",
    };

    internal static Task WriteError(HttpContext ctx, int status, string message)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new ApiError(message), ApiJson.Wire, ctx.RequestAborted);
    }

    // The route pattern, not the path: paths carry file names and ids, which stay out of the log.
    private static string RouteOf(HttpContext ctx) =>
        (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
}

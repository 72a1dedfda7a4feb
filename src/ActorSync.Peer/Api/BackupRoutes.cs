using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace ActorSync.Peer.Api;

/// <summary>
/// Workspace export and import: octet streams both ways (a <c>WorkspaceBundle</c>), never JSON and
/// never buffered here. <c>GET /v1/workspaces/{ws}/export</c>; <c>POST /v1/workspaces/import</c>
/// answers 201 with the workspace id.
/// </summary>
internal static class BackupRoutes
{
    public static void Map(RouteGroupBuilder v1, IPeerFacade facade, ApiLimits limits)
    {
        v1.MapGet("/workspaces/{ws}/export", async (HttpContext ctx, string ws, CancellationToken ct) =>
        {
            ctx.Response.ContentType = "application/octet-stream";
            await facade.ExportWorkspaceAsync(ws, ctx.Response.Body, ct);
        });

        v1.MapPost("/workspaces/import", async (HttpContext ctx, CancellationToken ct) =>
        {
            if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limits.MaxFileBytes;
            return Results.Json(new CreatedId(await facade.ImportWorkspaceAsync(ctx.Request.Body, ct)), ApiJson.Wire,
                statusCode: StatusCodes.Status201Created);
        });
    }
}

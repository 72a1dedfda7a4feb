using ActorSync.Core.Permissions;
using ActorSync.Core.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace ActorSync.Peer.Api;

/// <summary>
/// The route table of the local API: each route is one <see cref="IPeerFacade"/> call, so the HTTP
/// layer adds checks of shape (required fields, known roles and tools) and nothing else.
/// </summary>
internal static class ApiRoutes
{
    public static void Map(IEndpointRouteBuilder app, IPeerFacade facade, ApiLimits limits, CancellationToken stopping)
    {
        var v1 = app.MapGroup("/v1");

        v1.MapGet("/info", (CancellationToken ct) => facade.InfoAsync(ct));
        v1.MapGet("/card", async (CancellationToken ct) => new CardView(await facade.CardAsync(ct)));

        v1.MapPost("/contacts", async (AddContactRequest body, CancellationToken ct) =>
            Results.Json(await facade.AddContactAsync(Required(body.Card, "card"), Optional(body.Address), ct), ApiJson.Wire,
                statusCode: StatusCodes.Status201Created));
        v1.MapGet("/contacts", (CancellationToken ct) => facade.ContactsAsync(ct));

        v1.MapPost("/workspaces", async (CreateWorkspaceRequest body, CancellationToken ct) =>
            Results.Json(new CreatedId(await facade.CreateWorkspaceAsync(Required(body.Name, "name"), ct)), ApiJson.Wire,
                statusCode: StatusCodes.Status201Created));
        v1.MapGet("/workspaces", (CancellationToken ct) => facade.WorkspacesAsync(ct));
        v1.MapGet("/workspaces/{ws}", (string ws, CancellationToken ct) => facade.ShowWorkspaceAsync(ws, ct));

        v1.MapPost("/workspaces/{ws}/invite", async (string ws, InviteRequest body, CancellationToken ct) =>
        {
            await facade.InviteAsync(ws, Required(body.Account, "account"), ParseRole(body.Role ?? "participant"), ct);
            return Results.NoContent();
        });
        v1.MapGet("/invitations", (CancellationToken ct) => facade.InvitationsAsync(ct));
        v1.MapPost("/workspaces/{ws}/accept", (string ws, CancellationToken ct) => facade.AcceptAsync(ws, ct));
        v1.MapGet("/workspaces/{ws}/join", (string ws, CancellationToken ct) => facade.JoinProgressAsync(ws, ct));
        v1.MapDelete("/workspaces/{ws}/members/{account}", async (string ws, string account, CancellationToken ct) =>
        {
            await facade.UninviteAsync(ws, account, ct);
            return Results.NoContent();
        });
        v1.MapPut("/workspaces/{ws}/members/{account}/role", async (string ws, string account, ChangeRoleRequest body, CancellationToken ct) =>
        {
            await facade.ChangeRoleAsync(ws, account, ParseRole(Required(body.Role, "role")), ct);
            return Results.NoContent();
        });

        v1.MapPost("/workspaces/{ws}/members/{account}/reinvite", async (string ws, string account, CancellationToken ct) =>
            new ReinviteView(await facade.ReinviteAsync(ws, account, ct)));
        v1.MapGet("/workspaces/{ws}/permissions", (string ws, CancellationToken ct) => facade.PermissionsAsync(ws, ct));
        v1.MapPut("/workspaces/{ws}/permissions/{kind}/{role}", async (string ws, string kind, string role, PermissionsRequest body, CancellationToken ct) =>
        {
            if (body.Permissions is null) throw new PeerRequestException("field 'permissions' is required (a list of names, [] for none)");
            if (!PermissionNames.TryParse(body.Permissions, out var permissions, out var unknown))
                throw new PeerRequestException($"unknown permission '{unknown}' ({string.Join(", ", PermissionNames.All)})");
            await facade.SetPermissionsAsync(ws, ParseTool(kind), ParseRole(role), permissions, ct);
            return Results.NoContent();
        });

        MapEntries(v1.MapGroup("/workspaces/{ws}/tools/{kind}/entries"), facade);
        MapFiles(v1.MapGroup("/workspaces/{ws}/files"), facade, limits);
        BackupRoutes.Map(v1, facade, limits);

        v1.MapGet("/watch", (HttpContext ctx, string? ws) =>
            AlertStream.Run(ctx, facade, string.IsNullOrWhiteSpace(ws) ? null : ws, limits.Heartbeat, stopping));
    }

    private static void MapEntries(RouteGroupBuilder entries, IPeerFacade facade)
    {
        entries.MapPost("", async (string ws, string kind, EntryRequest body, CancellationToken ct) =>
            Results.Json(new CreatedId(await facade.CreateEntryAsync(ws, ParseEntryTool(kind), Fields(body), ct)), ApiJson.Wire,
                statusCode: StatusCodes.Status201Created));
        entries.MapPost("/batch", async (string ws, string kind, EntryBatchRequest body, CancellationToken ct) =>
        {
            if (body.Entries is not { Count: > 0 }) throw new PeerRequestException("field 'entries' is required (a list of {\"fields\": {...}})");
            var fields = body.Entries.Select(e => (IReadOnlyDictionary<string, string>)Fields(e)).ToList();
            return Results.Json(new CreatedIds(await facade.CreateEntriesAsync(ws, ParseEntryTool(kind), fields, ct)), ApiJson.Wire,
                statusCode: StatusCodes.Status201Created);
        });
        entries.MapGet("", (string ws, string kind, CancellationToken ct) => facade.EntriesAsync(ws, ParseEntryTool(kind), ct));
        entries.MapPut("/{id}", async (string ws, string kind, string id, EntryRequest body, CancellationToken ct) =>
        {
            await facade.EditEntryAsync(ws, ParseEntryTool(kind), id, Fields(body), ct);
            return Results.NoContent();
        });
        entries.MapDelete("/{id}", async (string ws, string kind, string id, CancellationToken ct) =>
        {
            await facade.DeleteEntryAsync(ws, ParseEntryTool(kind), id, ct);
            return Results.NoContent();
        });
    }

    private static void MapFiles(RouteGroupBuilder files, IPeerFacade facade, ApiLimits limits)
    {
        files.MapGet("", (string ws, CancellationToken ct) => facade.FilesAsync(ws, ct));

        // The body is the file's bytes, streamed straight into the facade: no JSON, no buffering here.
        files.MapPut("/{**name}", async (HttpContext ctx, string ws, string name, CancellationToken ct) =>
        {
            if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limits.MaxFileBytes;
            return await facade.PutFileAsync(ws, RequiredName(name), ctx.Request.Body, ct);
        });

        files.MapGet("/{**name}", async (HttpContext ctx, string ws, string name, CancellationToken ct) =>
        {
            var file = RequiredName(name);
            ctx.Response.ContentType = "application/octet-stream";
            await facade.GetFileAsync(ws, file, ctx.Response.Body, ct);
        });
    }

    private static string RequiredName(string? name) =>
        string.IsNullOrEmpty(name) ? throw new PeerRequestException("a file name is required after /files/") : name;

    private static string Required(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new PeerRequestException($"field '{field}' is required") : value;

    private static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static Dictionary<string, string> Fields(EntryRequest body)
    {
        if (body.Fields is null || body.Fields.Count == 0) throw new PeerRequestException("field 'fields' is required (an object of entry fields)");
        var fields = new Dictionary<string, string>(body.Fields.Count, StringComparer.Ordinal);
        foreach (var (name, value) in body.Fields)
            fields[name] = value ?? throw new PeerRequestException($"entry field '{name}' is null");
        return fields;
    }

    internal static Role ParseRole(string text) =>
        // Letters only: Enum.TryParse would also take "2" or "manager, guest".
        text.All(char.IsAsciiLetter) && RoleNames.TryParse(text, out var role)
            ? role
            : throw new PeerRequestException($"unknown role '{text}' (manager, participant or guest)");

    /// <summary>Any tool kind, and "workspace" for membership itself.</summary>
    internal static ToolKind ParseTool(string text) =>
        text.Equals("workspace", StringComparison.OrdinalIgnoreCase) ? ToolKind.Workspace
        : text.All(char.IsAsciiLetter) && RoleNames.TryParseKind(text, out var kind) ? kind
        : throw new PeerRequestException($"no tool '{text}' (workspace, discussion, files, chat, calendar, notepad, sketchpad, pictures)", StatusCodes.Status404NotFound);

    internal static ToolKind ParseEntryTool(string text) =>
        text.All(char.IsAsciiLetter) && RoleNames.TryParseKind(text, out var kind) && EntrySchema.IsEntryTool(kind)
            ? kind
            : throw new PeerRequestException($"no entry tool '{text}' (discussion, chat, calendar, notepad, sketchpad, pictures)", StatusCodes.Status404NotFound);
}

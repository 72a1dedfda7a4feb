using ActorSync.Peer.Api;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>Verbs about workspaces and their members: create, list, show, invite, accept, remove, change roles.</summary>
internal static class WorkspaceVerbs
{
    private const string Roles = "manager|participant|guest";

    /// <summary>How often `ws accept` asks how far the first copy has got.</summary>
    internal static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    public static IReadOnlyList<Verb> All { get; } =
    [
        new("ws create", "NAME", "create a workspace; prints its id", VerbShape.Of(1, 1), Create),
        new("ws list", "[--json]", "workspaces on this device: id, name, your role", VerbShape.Of(0, 0, flags: ["json"]), List),
        new("ws show", "WS [--json]", "members, roles, per-device sync state and the stateHash", VerbShape.Of(1, 1, flags: ["json"]), Show),
        new("ws invite", $"WS ACCOUNT [--role {Roles}]", "invite a contact (default role: participant)", VerbShape.Of(2, 2, ["role"]), Invite),
        new("ws invitations", "[--json]", "invitations to this account", VerbShape.Of(0, 0, flags: ["json"]), Invitations),
        new("ws accept", "WS", "accept an invitation and wait for the first copy, with progress on stderr", VerbShape.Of(1, 1), Accept),
        new("ws uninvite", "WS ACCOUNT", "remove a member (managers); later changes move to a key the member does not get", VerbShape.Of(2, 2), Uninvite),
        new("ws role", $"WS ACCOUNT {Roles}", "change a member's role (managers)", VerbShape.Of(3, 3), Role),
        new("ws reinvite", "WS ACCOUNT", "re-invite a member whose device went dormant (managers); it then catches up", VerbShape.Of(2, 2), Reinvite),
        new("ws permissions", "WS [--json]", "what each role may do in each tool (workspace = membership), and which a manager changed",
            VerbShape.Of(1, 1, flags: ["json"]), Permissions),
        new("ws permit", $"WS TOOL {Roles} PERMS", "set what a role may do in a tool (managers); PERMS: comma-separated names or none",
            VerbShape.Of(4, 4), Permit),
    ];

    private static async Task<int> Create(Invocation inv)
    {
        var created = await inv.Api.SendAsync<CreatedId>(HttpMethod.Post, "v1/workspaces", new CreateWorkspaceRequest(inv.Args.Positional(0)), inv.Ct);
        inv.Out.WriteLine(created.Id);
        return ExitCodes.Ok;
    }

    private static async Task<int> List(Invocation inv)
    {
        var list = await inv.Api.GetAsync<List<WorkspaceSummary>>("v1/workspaces", inv.Ct);
        inv.PrintListing(list, Render.Workspaces, "(no workspaces yet: create one with actorsync ws create)");
        return ExitCodes.Ok;
    }

    private static async Task<int> Show(Invocation inv)
    {
        var details = await inv.Api.GetAsync<WorkspaceDetails>(PeerApiClient.Route("v1", "workspaces", inv.Args.Positional(0)), inv.Ct);
        if (inv.Json) inv.PrintJson(details);
        else inv.Out.Write(Render.Workspace(details));
        return ExitCodes.Ok;
    }

    private static async Task<int> Invite(Invocation inv)
    {
        var (ws, account) = (inv.Args.Positional(0), inv.Args.Positional(1));
        var role = CheckRole(inv.Args.Value("role") ?? "participant");
        await inv.Api.SendAsync(HttpMethod.Post, PeerApiClient.Route("v1", "workspaces", ws, "invite"), new InviteRequest(account, role), inv.Ct);
        inv.Out.WriteLine($"invited {account} to {ws} as {role}");
        return ExitCodes.Ok;
    }

    private static async Task<int> Invitations(Invocation inv)
    {
        var list = await inv.Api.GetAsync<List<InvitationView>>("v1/invitations", inv.Ct);
        inv.PrintListing(list, Render.Invitations, "(no invitations)");
        return ExitCodes.Ok;
    }

    private static async Task<int> Accept(Invocation inv)
    {
        var ws = inv.Args.Positional(0);
        var api = inv.Api;
        var joinRoute = PeerApiClient.Route("v1", "workspaces", ws, "join");
        var progress = new ProgressLine(inv.Err, inv.Console.Interactive);
        // Accept answers once the first copy is in (or the peer's own wait runs out); meanwhile
        // the join route says how far it has got.
        var accept = api.SendUnboundedAsync<JoinProgress>(HttpMethod.Post, PeerApiClient.Route("v1", "workspaces", ws, "accept"), null, inv.Ct);
        while (await Task.WhenAny(accept, Task.Delay(ProgressInterval, inv.Ct)) != accept)
        {
            inv.Ct.ThrowIfCancellationRequested();
            try
            {
                progress.Show(await api.GetAsync<JoinProgress>(joinRoute, inv.Ct));
            }
            catch (PeerApiException e) when (e.Status is 404 or 409)
            {
                // The peer has not registered the join yet.
            }
        }
        var state = await accept;
        while (!state.Complete)
        {
            progress.Show(state);
            await Task.Delay(ProgressInterval, inv.Ct);
            state = await api.GetAsync<JoinProgress>(joinRoute, inv.Ct);
        }
        progress.Finish();
        inv.Out.WriteLine(Render.Joined(state));
        return ExitCodes.Ok;
    }

    private static async Task<int> Uninvite(Invocation inv)
    {
        var (ws, account) = (inv.Args.Positional(0), inv.Args.Positional(1));
        await inv.Api.SendAsync(HttpMethod.Delete, PeerApiClient.Route("v1", "workspaces", ws, "members", account), null, inv.Ct);
        inv.Out.WriteLine($"removed {account} from {ws}");
        return ExitCodes.Ok;
    }

    private static async Task<int> Role(Invocation inv)
    {
        var (ws, account) = (inv.Args.Positional(0), inv.Args.Positional(1));
        var role = CheckRole(inv.Args.Positional(2));
        await inv.Api.SendAsync(HttpMethod.Put, PeerApiClient.Route("v1", "workspaces", ws, "members", account, "role"), new ChangeRoleRequest(role), inv.Ct);
        inv.Out.WriteLine($"{account} is now {role} in {ws}");
        return ExitCodes.Ok;
    }

    private static async Task<int> Reinvite(Invocation inv)
    {
        var (ws, account) = (inv.Args.Positional(0), inv.Args.Positional(1));
        var sent = await inv.Api.SendAsync<ReinviteView>(HttpMethod.Post, PeerApiClient.Route("v1", "workspaces", ws, "members", account, "reinvite"), null, inv.Ct);
        inv.Out.WriteLine($"re-invited {account} to {ws} ({sent.Devices} device{(sent.Devices == 1 ? "" : "s")})");
        return ExitCodes.Ok;
    }

    private static async Task<int> Permissions(Invocation inv)
    {
        var list = await inv.Api.GetAsync<List<PermissionView>>(PeerApiClient.Route("v1", "workspaces", inv.Args.Positional(0), "permissions"), inv.Ct);
        inv.PrintListing(list, Render.Permissions, "(no tools)");
        return ExitCodes.Ok;
    }

    private static async Task<int> Permit(Invocation inv)
    {
        var (ws, tool) = (inv.Args.Positional(0), inv.Args.Positional(1).ToLowerInvariant());
        var role = CheckRole(inv.Args.Positional(2));
        var names = inv.Args.Positional(3).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        if (!Core.Permissions.PermissionNames.TryParse(names, out _, out var unknown))
            throw new UsageException($"unknown permission '{TextTable.Clean(unknown!)}' ({string.Join(", ", Core.Permissions.PermissionNames.All)}, or none)");
        await inv.Api.SendAsync(HttpMethod.Put, PeerApiClient.Route("v1", "workspaces", ws, "permissions", tool, role), new PermissionsRequest(names), inv.Ct);
        inv.Out.WriteLine($"{role}s may now {(names.Count == 0 || names.All(n => n == "none") ? "do nothing" : string.Join(", ", names))} in {tool} of {ws}");
        return ExitCodes.Ok;
    }

    internal static string CheckRole(string role)
    {
        var lower = role.ToLowerInvariant();
        return lower is "manager" or "participant" or "guest" ? lower : throw new UsageException($"unknown role '{TextTable.Clean(role)}' ({Roles})");
    }
}

/// <summary>
/// One progress line on stderr: rewritten in place on a terminal, and printed only when it changes
/// otherwise, so a log file gets a few lines rather than thousands.
/// </summary>
internal sealed class ProgressLine(TextWriter err, bool interactive)
{
    private string last = "";

    public void Show(JoinProgress progress) => Show(Render.Progress(progress));

    public void Show(string line)
    {
        if (line == last) return;
        if (interactive) err.Write("\r" + line.PadRight(last.Length));
        else err.WriteLine(line);
        last = line;
    }

    public void Finish()
    {
        if (interactive && last.Length > 0) err.WriteLine();
        last = "";
    }
}

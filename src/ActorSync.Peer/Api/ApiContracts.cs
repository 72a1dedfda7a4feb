using System.Text.Encodings.Web;
using System.Text.Json;

namespace ActorSync.Peer.Api;

// Request bodies are all-nullable on purpose: a missing or null field becomes a one-line 400 that
// names the field, instead of a serializer exception or a null slipping into the facade.

/// <summary>Body of POST /v1/contacts: a contact card as `actorsync card` prints it, and optionally where to reach that device directly.</summary>
public sealed record AddContactRequest(string? Card, string? Address = null);

/// <summary>Body of POST /v1/workspaces.</summary>
public sealed record CreateWorkspaceRequest(string? Name);

/// <summary>Body of POST /v1/workspaces/{ws}/invite; the role defaults to participant.</summary>
public sealed record InviteRequest(string? Account, string? Role = null);

/// <summary>Body of PUT /v1/workspaces/{ws}/members/{account}/role.</summary>
public sealed record ChangeRoleRequest(string? Role);
public sealed record PermissionsRequest(List<string>? Permissions);
public sealed record ReinviteView(int Devices);

/// <summary>Body of POST and PUT on an entry tool: field name to value (names as in <c>EntrySchema</c>).</summary>
public sealed record EntryRequest(IReadOnlyDictionary<string, string?>? Fields);

/// <summary>Answer to a create: the new thing's id, as the CLI prints it.</summary>
public sealed record CreatedId(string Id);

/// <summary>POST .../entries/batch: many entries of one tool as one command.</summary>
public sealed record EntryBatchRequest(IReadOnlyList<EntryRequest>? Entries);

public sealed record CreatedIds(IReadOnlyList<string> Ids);

/// <summary>Answer to GET /v1/card.</summary>
public sealed record CardView(string Card);

/// <summary>Every non-2xx answer of the API: one line for the user, never internals.</summary>
public sealed record ApiError(string Error);

/// <summary>The JSON conventions both ends of the local API share (System.Text.Json, camelCase).</summary>
public static class ApiJson
{
    /// <summary>
    /// On the wire: web defaults (camelCase, case-insensitive reads), field names in dictionaries kept
    /// as they are, and text escaped only where JSON requires it: the API serves no HTML, and its
    /// messages should read the same in a terminal as in a log.
    /// </summary>
    public static JsonSerializerOptions Wire { get; } = Freeze(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>For people and scripts reading `--json` output: indented, non-ASCII text left readable (control characters stay escaped).</summary>
    public static JsonSerializerOptions Display { get; } = Freeze(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private static JsonSerializerOptions Freeze(JsonSerializerOptions options)
    {
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

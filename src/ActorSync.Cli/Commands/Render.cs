using System.Globalization;
using System.Text;
using ActorSync.Peer.Api;

namespace ActorSync.Cli.Commands;

/// <summary>The readable (non --json) form of every API answer; pure functions of the views, so tests pin them.</summary>
internal static class Render
{
    private const int ShortHash = 12;

    public static string Info(PeerInfo info) => Fields(
        ("account", info.Account), ("name", info.Name), ("device", info.Device), ("listen", info.ListenAddress ?? "(not listening)"));

    public static string Contacts(IReadOnlyList<ContactView> contacts) => TextTable.Format(
        ["NAME", "ACCOUNT", "PRESENCE", "DEVICES", "ADDRESS"],
        contacts.Select(c => Row(c.Name, c.Account, c.Presence, Count(c.Devices.Count, "device"), c.Address ?? "-")));

    public static string Workspaces(IReadOnlyList<WorkspaceSummary> workspaces) => TextTable.Format(
        ["ID", "NAME", "ROLE", "MEMBERS"],
        workspaces.Select(w => Row(w.Id, w.Name, w.Role, Number(w.Members))));

    /// <summary>"label: value" lines (so `grep '^stateHash:'` works), then one row per member device.</summary>
    public static string Workspace(WorkspaceDetails ws)
    {
        var text = new StringBuilder(Fields(
            ("id", ws.Id),
            ("name", ws.Name),
            ("role", ws.Dormant ? ws.Role + " (dormant on this device: not synced until a manager re-invites it)" : ws.Role),
            ("stateHash", ws.StateHash),
            ("deltas", string.Create(CultureInfo.InvariantCulture, $"{ws.Deltas} applied, {ws.Buffered} waiting for dependencies, {ws.Parked} parked, {ws.Rejected} rejected")),
            ("tools", ws.Tools.Count == 0 ? "-" : string.Join(", ", ws.Tools)),
            ("log", ws.Retention is not { } log ? "-" : string.Create(CultureInfo.InvariantCulture,
                $"{log.Logged} deltas, {log.HeldByAll} held by every active member, {log.Pruned} pruned{(log.Fetching > 0 ? $", {log.Fetching} being fetched" : "")}{(log.PinnedBy.Count == 0 ? "" : "; pinned by " + string.Join(", ", log.PinnedBy.Select(p => $"{p.Member} ({Short(p.Device)}: {p.Deltas} not confirmed)")))}"))));
        text.Append('\n');
        var rows = ws.Members.SelectMany(m => m.Devices.Count == 0
            ? [Row(m.Name, m.Account, m.Role, "-", "-", "-", "-", "-", "-")]
            : m.Devices.Select(d => Row(m.Name, m.Account, m.Role, d.Device, d.Presence, d.Route, Number(d.AppliedDeltas), Number(d.PendingToSend),
                d.WaitingAtRelay switch { null => "-", < 0 => "?", { } n => Number(n) })));
        text.Append(TextTable.Format(["MEMBER", "ACCOUNT", "ROLE", "DEVICE", "PRESENCE", "ROUTE", "APPLIED", "TO SEND", "AT RELAY"], rows));
        if (ws.Removed.Count > 0)
        {
            text.Append('\n');
            text.Append(TextTable.Format(["REMOVED", "ACCOUNT", "BY DELTA", "COPY DELETED"], ws.Removed.Select(r => Row(r.Name, r.Account, r.Removal,
                r.Deleted.Count == 0 ? "no receipt yet" : string.Join(", ", r.Deleted.Select(d => $"{Short(d.Device)} at {d.DeletedAt} (signed receipt)"))))));
        }
        return text.ToString();
    }

    public static string Permissions(IReadOnlyList<PermissionView> permissions) => TextTable.Format(
        ["TOOL", "KIND", "ROLE", "MAY", "SET BY"],
        permissions.Select(p => Row(p.Tool, p.Kind, p.Role, p.Permissions.Count == 0 ? "nothing" : string.Join(",", p.Permissions),
            p.Overridden ? "a manager" : "default")));

    public static string Invitations(IReadOnlyList<InvitationView> invitations) => TextTable.Format(
        ["WORKSPACE", "NAME", "FROM", "ROLE", "STATUS"],
        invitations.Select(i => Row(i.Workspace, i.Name, $"{i.InviterName} ({i.Inviter})", i.Role, i.Status)));

    public static string Progress(JoinProgress p) =>
        TextTable.Clean($"receiving the first copy of {p.Workspace}: {Count(p.Deltas, "delta")}{(p.Message is { Length: > 0 } m ? " (" + m + ")" : "")}");

    public static string Joined(JoinProgress p) => $"joined {p.Workspace} ({Count(p.Deltas, "delta")})";

    public static string Files(IReadOnlyList<FileInfoView> files) => TextTable.Format(
        ["NAME", "SIZE", "HASH", "AUTHOR", "VERSION", "STATE"],
        files.Select(f => Row(f.Name, TextTable.Size(f.Size), Short(f.Hash), f.Author, Number(f.Version), FileState(f))));

    public static string Stored(FileInfoView f) =>
        TextTable.Clean($"stored {f.Name}: {TextTable.Size(f.Size)}, version {f.Version}, sha256 {f.Hash}"
            + (f.NewContentBytes is { } fresh ? $", new content: {fresh.ToString(System.Globalization.CultureInfo.InvariantCulture)} bytes" : ""));

    public static string Alert(AlertView a) =>
        TextTable.Clean($"{a.Time}  {a.Kind,-10}  {a.Workspace ?? "-"}  {a.Text}");

    /// <summary>A tool's entries as a table whose columns are that tool's fields; see <see cref="EntryColumns"/>.</summary>
    public static string Entries(IReadOnlyList<EntryColumn> columns, IReadOnlyList<EntryView> entries) => TextTable.Format(
        columns.Select(c => c.Header).ToList(),
        entries.Select(e => columns.Select(c => c.Value(e)).ToList()));

    public static string Field(EntryView e, string name) => e.Fields.TryGetValue(name, out var v) ? v : "";

    public static string Author(EntryView e) => e.AuthorName.Length > 0 ? e.AuthorName : e.Author;

    private static string FileState(FileInfoView f) => (f.ConflictCopy, f.ContentComplete) switch
    {
        (true, false) => "conflict copy, receiving",
        (true, true) => "conflict copy",
        (false, false) => "receiving",
        _ => "ok",
    };

    private static string Short(string hash) => hash.Length > ShortHash ? hash[..ShortHash] : hash;

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Count(long n, string noun) => $"{Number(n)} {noun}{(n == 1 ? "" : "s")}";

    private static string[] Row(params string[] cells) => cells;

    private static string Fields(params (string Label, string Value)[] fields)
    {
        var width = fields.Max(f => f.Label.Length) + 3;
        var text = new StringBuilder();
        foreach (var (label, value) in fields) text.Append((label + ":").PadRight(width)).Append(TextTable.Clean(value)).Append('\n');
        return text.ToString();
    }
}

/// <summary>One column of an entry listing: its header and how to read it from an entry.</summary>
internal sealed record EntryColumn(string Header, Func<EntryView, string> Value);

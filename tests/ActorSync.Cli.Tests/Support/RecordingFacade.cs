using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;

namespace ActorSync.Cli.Tests.Support;

/// <summary>
/// An <see cref="IPeerFacade"/> that writes down every call as text ("InviteAsync(ws1, acc1, Manager)"),
/// answers with canned views, and throws <see cref="Fail"/> when set: the HTTP layer's test double.
/// </summary>
internal sealed class RecordingFacade : IPeerFacade
{
    public ConcurrentQueue<string> Calls { get; } = new();
    public Exception? Fail { get; set; }

    /// <summary>Alerts the watch stream will deliver, in order.</summary>
    public Channel<AlertView> Alerts { get; } = Channel.CreateUnbounded<AlertView>();
    public TaskCompletionSource<string?> WatchStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource WatchEnded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    /// <summary>What successive join-progress queries answer; the last one repeats.</summary>
    public ConcurrentQueue<JoinProgress> JoinSteps { get; } = new();
    public JoinProgress AcceptAnswer { get; set; } = new("ws1", true, 12, null);

    public static readonly WorkspaceDetails Details = new(
        "ws1", "Garden club", "manager", new string('a', 64), 42, 1, 0, 2,
        [new MemberView("acc1", "Ann", "manager", [new MemberDeviceView("dev1", "online", "direct", 42, 0)]),
         new MemberView("acc2", "Bob", "participant", [])],
        ["discussion", "chat"]);

    public string Last => Calls.Last();

    public Task<PeerInfo> InfoAsync(CancellationToken ct) => Answer(new PeerInfo("acc1", "Ann", "dev1", "127.0.0.1:5000"));
    public Task<string> CardAsync(CancellationToken ct) => Answer("card-text");

    public Task<ContactView> AddContactAsync(string card, string? address, CancellationToken ct) =>
        Answer(new ContactView("acc2", "Bob", ["dev2"], "offline", address), [card, address]);

    public Task<IReadOnlyList<ContactView>> ContactsAsync(CancellationToken ct) =>
        Answer<IReadOnlyList<ContactView>>([new ContactView("acc2", "Bob", ["dev2"], "online", "127.0.0.1:7000")]);

    public Task<string> CreateWorkspaceAsync(string name, CancellationToken ct) => Answer("ws1", [name]);

    public Task<IReadOnlyList<WorkspaceSummary>> WorkspacesAsync(CancellationToken ct) =>
        Answer<IReadOnlyList<WorkspaceSummary>>([new WorkspaceSummary("ws1", "Garden club", "manager", 2)]);

    public Task<WorkspaceDetails> ShowWorkspaceAsync(string workspace, CancellationToken ct) => Answer(Details, [workspace]);

    public Task InviteAsync(string workspace, string account, Role role, CancellationToken ct) => Answer(0, [workspace, account, role]);

    public Task<IReadOnlyList<InvitationView>> InvitationsAsync(CancellationToken ct) =>
        Answer<IReadOnlyList<InvitationView>>([new InvitationView("ws9", "Book club", "acc3", "Cat", "guest", "pending")]);

    public Task<JoinProgress> AcceptAsync(string workspace, CancellationToken ct) => Answer(AcceptAnswer, [workspace]);

    public Task<JoinProgress> JoinProgressAsync(string workspace, CancellationToken ct)
    {
        var step = JoinSteps.Count > 1 && JoinSteps.TryDequeue(out var s) ? s : JoinSteps.TryPeek(out var last) ? last : AcceptAnswer;
        return Answer(step, [workspace]);
    }

    public Task UninviteAsync(string workspace, string account, CancellationToken ct) => Answer(0, [workspace, account]);
    public Task ChangeRoleAsync(string workspace, string account, Role role, CancellationToken ct) => Answer(0, [workspace, account, role]);

    public Task<int> ReinviteAsync(string workspace, string account, CancellationToken ct) => Answer(1, [workspace, account]);

    public Task SetPermissionsAsync(string workspace, ToolKind tool, Role role, Permission permissions, CancellationToken ct) =>
        Answer(0, [workspace, tool, role, permissions]);

    public Task<IReadOnlyList<PermissionView>> PermissionsAsync(string workspace, CancellationToken ct) =>
        Answer<IReadOnlyList<PermissionView>>([new PermissionView("files", "files", "guest", ["view", "create"], true)], [workspace]);

    public Task<string> CreateEntryAsync(string workspace, ToolKind kind, IReadOnlyDictionary<string, string> fields, CancellationToken ct) =>
        Answer("dev1.7", [workspace, kind, fields]);

    public Task<IReadOnlyList<string>> CreateEntriesAsync(string workspace, ToolKind kind, IReadOnlyList<IReadOnlyDictionary<string, string>> entries,
        CancellationToken ct) =>
        Answer<IReadOnlyList<string>>(entries.Select((_, i) => $"dev1.{7 + i}").ToList(), [workspace, kind, entries]);

    public Task EditEntryAsync(string workspace, ToolKind kind, string entry, IReadOnlyDictionary<string, string> fields, CancellationToken ct) =>
        Answer(0, [workspace, kind, entry, fields]);

    public Task DeleteEntryAsync(string workspace, ToolKind kind, string entry, CancellationToken ct) => Answer(0, [workspace, kind, entry]);

    public Task<IReadOnlyList<EntryView>> EntriesAsync(string workspace, ToolKind kind, CancellationToken ct) =>
        Answer<IReadOnlyList<EntryView>>(
            [new EntryView("dev1.7", "acc1", "Ann", "2025-06-01T10:00:00Z", new Dictionary<string, string> { ["text"] = "hello", ["replyTo"] = "dev2.1" }, false)],
            [workspace, kind]);

    public async Task<FileInfoView> PutFileAsync(string workspace, string name, Stream content, CancellationToken ct)
    {
        Record([workspace, name]);
        ThrowIfFailing();
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy, ct);
        Files[name] = copy.ToArray();
        return new FileInfoView(name, copy.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(copy.ToArray())), "acc1", 1, false, true);
    }

    public async Task GetFileAsync(string workspace, string name, Stream destination, CancellationToken ct)
    {
        Record([workspace, name]);
        ThrowIfFailing();
        if (!Files.TryGetValue(name, out var bytes)) throw new PeerRequestException($"no file '{name}'", 404);
        await destination.WriteAsync(bytes, ct);
    }

    public Task<IReadOnlyList<FileInfoView>> FilesAsync(string workspace, CancellationToken ct) =>
        Answer<IReadOnlyList<FileInfoView>>([new FileInfoView("docs/plan.txt", 1536, new string('b', 64), "Ann", 2, false, true)], [workspace]);

    public Task<IAsyncEnumerable<AlertView>> WatchAsync(string? workspace, CancellationToken ct)
    {
        Record([workspace]);
        ThrowIfFailing();
        return Task.FromResult(Stream(workspace, ct));
    }

    private async IAsyncEnumerable<AlertView> Stream(string? workspace, [EnumeratorCancellation] CancellationToken ct)
    {
        WatchStarted.TrySetResult(workspace);
        try
        {
            await foreach (var alert in Alerts.Reader.ReadAllAsync(ct)) yield return alert;
        }
        finally
        {
            WatchEnded.TrySetResult();
        }
    }

    /// <summary>What an export streams (a workspace bundle as far as the CLI knows: it only encrypts it).</summary>
    public byte[] Export { get; set; } = [];

    /// <summary>The bodies imports received, in order.</summary>
    public ConcurrentQueue<byte[]> Imports { get; } = new();

    public async Task ExportWorkspaceAsync(string workspace, Stream destination, CancellationToken ct)
    {
        Record([workspace]);
        ThrowIfFailing();
        await destination.WriteAsync(Export, ct);
    }

    public async Task<string> ImportWorkspaceAsync(Stream export, CancellationToken ct)
    {
        Record([]);
        ThrowIfFailing();
        using var copy = new MemoryStream();
        await export.CopyToAsync(copy, ct);
        Imports.Enqueue(copy.ToArray());
        return "ws1";
    }

    private Task<T> Answer<T>(T value, object?[]? args = null, [CallerMemberName] string method = "")
    {
        Record(args ?? [], method);
        ThrowIfFailing();
        return Task.FromResult(value);
    }

    private void Record(object?[] args, [CallerMemberName] string method = "") =>
        Calls.Enqueue($"{method}({string.Join(", ", args.Select(Show))})");

    private void ThrowIfFailing()
    {
        if (Fail is { } e) throw e;
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        IReadOnlyDictionary<string, string> fields => "{" + string.Join(", ", fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}")) + "}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

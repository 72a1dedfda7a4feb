using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Actors;
using ActorSync.Peer.Actors.Device;
using ActorSync.Peer.Actors.Presence;
using ActorSync.Peer.Actors.Workspaces;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Api;

/// <summary>
/// The API's view of the running peer: each call is one ask into the actor tree (the /device
/// actor), with the reply mapped to a DTO or a <see cref="PeerRequestException"/>.
/// </summary>
public sealed partial class ActorPeerFacade : IPeerFacade
{
    private readonly ActorSystem _system;
    private readonly IActorRef _device;
    private readonly PeerContext _peer;
    private readonly Func<string?> _listenAddress;

    public ActorPeerFacade(ActorSystem system, IActorRef device, PeerContext peer, Func<string?> listenAddress)
    {
        _system = system;
        _device = device;
        _peer = peer;
        _listenAddress = listenAddress;
    }

    private TimeSpan Timeout => _peer.Settings.AskTimeout;

    private async Task<T> Ask<T>(object message, CancellationToken ct, TimeSpan? timeout = null)
    {
        object reply;
        try
        {
            reply = await _device.Ask(message, timeout ?? Timeout, ct).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new PeerRequestException("the peer did not answer in time", 504);
        }
        return reply switch
        {
            Refused r => throw new PeerRequestException(r.Reason, r.Status),
            Status.Failure f => throw new PeerRequestException("the request failed: " + f.Cause.GetType().Name, 500),
            T t => t,
            _ => throw new PeerRequestException($"unexpected reply {reply.GetType().Name}", 500),
        };
    }

    private Task<T> AskWorkspace<T>(string workspace, object message, CancellationToken ct, TimeSpan? timeout = null) =>
        Ask<T>(new DeviceProtocol.ToWorkspaces(new ToWorkspace(ParseWorkspace(workspace), message)), ct, timeout);

    private static WorkspaceId ParseWorkspace(string text) =>
        WorkspaceId.TryParse(text, out var id) ? id : throw new PeerRequestException($"'{text}' is not a workspace id");

    private static AccountId ParseAccount(string text) =>
        AccountId.TryParse(text, out var id) ? id : throw new PeerRequestException($"'{text}' is not an account id (check the characters)");

    private static DeltaId ParseEntry(string text) =>
        DeltaId.TryParse(text, out var id) ? id : throw new PeerRequestException($"'{text}' is not an entry id");

    public Task<PeerInfo> InfoAsync(CancellationToken ct) =>
        Task.FromResult(new PeerInfo(_peer.Account.Id.ToString(), _peer.Account.Name, _peer.Device.Id.ToString(), _listenAddress()));

    public Task<string> CardAsync(CancellationToken ct) => Task.FromResult(_peer.Home.Card.ToText());

    public Task<ContactView> AddContactAsync(string card, string? address, CancellationToken ct) =>
        Ask<ContactView>(new DeviceProtocol.AddContact(card, address), ct);

    public Task<IReadOnlyList<ContactView>> ContactsAsync(CancellationToken ct) =>
        Ask<IReadOnlyList<ContactView>>(new DeviceProtocol.GetContacts(), ct);

    public async Task<string> CreateWorkspaceAsync(string name, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200) throw new PeerRequestException("a workspace name is 1-200 characters");
        var created = await Ask<Created>(new DeviceProtocol.ToWorkspaces(new WorkspaceProtocol.CreateWorkspace(name.Trim())), ct).ConfigureAwait(false);
        return created.Workspace.ToString();
    }

    public async Task<IReadOnlyList<WorkspaceSummary>> WorkspacesAsync(CancellationToken ct) =>
        (await Ask<WorkspaceList>(new DeviceProtocol.ToWorkspaces(new ListWorkspaces()), ct).ConfigureAwait(false)).Workspaces;

    public Task<WorkspaceDetails> ShowWorkspaceAsync(string workspace, CancellationToken ct) =>
        AskWorkspace<WorkspaceDetails>(workspace, new GetDetails(), ct);

    public async Task InviteAsync(string workspace, string account, Role role, CancellationToken ct)
    {
        var found = await Ask<DeviceProtocol.ContactFound>(new DeviceProtocol.FindContact(ParseAccount(account)), ct).ConfigureAwait(false);
        var card = found.Card ?? throw new PeerRequestException("that account is not a contact: add its card first (actorsync contact add)", 404);
        await AskWorkspace<Authored>(workspace, new Invite(card, role), ct).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<InvitationView>> InvitationsAsync(CancellationToken ct) =>
        Ask<IReadOnlyList<InvitationView>>(new DeviceProtocol.GetInvitations(), ct);

    public async Task<JoinProgress> AcceptAsync(string workspace, CancellationToken ct)
    {
        await Ask<Created>(new DeviceProtocol.AcceptInvitation(ParseWorkspace(workspace)), ct).ConfigureAwait(false);
        return await JoinProgressAsync(workspace, ct).ConfigureAwait(false);
    }

    public Task<JoinProgress> JoinProgressAsync(string workspace, CancellationToken ct) =>
        AskWorkspace<JoinProgress>(workspace, new GetJoinProgress(), ct);

    public Task UninviteAsync(string workspace, string account, CancellationToken ct) =>
        AskWorkspace<Authored>(workspace, new Uninvite(ParseAccount(account)), ct);

    public Task ChangeRoleAsync(string workspace, string account, Role role, CancellationToken ct) =>
        AskWorkspace<Authored>(workspace, new Author(ToolId.Workspace, new ChangeRole(ParseAccount(account), role)), ct);

    public async Task<int> ReinviteAsync(string workspace, string account, CancellationToken ct) =>
        (await AskWorkspace<ReinviteSent>(workspace, new Reinvite(ParseAccount(account)), ct).ConfigureAwait(false)).Devices;

    public Task SetPermissionsAsync(string workspace, ToolKind tool, Role role, Permission permissions, CancellationToken ct) =>
        AskWorkspace<Authored>(workspace, new SetPermissions(tool, role, permissions), ct);

    public Task<IReadOnlyList<PermissionView>> PermissionsAsync(string workspace, CancellationToken ct) =>
        AskWorkspace<IReadOnlyList<PermissionView>>(workspace, new GetPermissions(), ct);

    public async Task<string> CreateEntryAsync(string workspace, ToolKind kind, IReadOnlyDictionary<string, string> fields, CancellationToken ct)
    {
        var authored = await AskWorkspace<Authored>(workspace, new AuthorIn(kind, new CreateEntry(Fields(fields))), ct).ConfigureAwait(false);
        return authored.Id.ToString();
    }

    public async Task<IReadOnlyList<string>> CreateEntriesAsync(string workspace, ToolKind kind, IReadOnlyList<IReadOnlyDictionary<string, string>> entries,
        CancellationToken ct)
    {
        if (entries.Count is 0 or > MaxEntriesPerBatch) throw new PeerRequestException($"1 to {MaxEntriesPerBatch} entries per batch");
        var ops = entries.Select(fields => (DeltaOp)new CreateEntry(Fields(fields))).ToList();
        var authored = await AskWorkspace<AuthoredMany>(workspace, new AuthorManyIn(kind, ops), ct).ConfigureAwait(false);
        return authored.Ids.Select(id => id.ToString()).ToList();
    }

    /// <summary>Most entries one batch may create (one journal event carries them all).</summary>
    public const int MaxEntriesPerBatch = 1000;

    public async Task EditEntryAsync(string workspace, ToolKind kind, string entry, IReadOnlyDictionary<string, string> fields, CancellationToken ct)
    {
        await AskWorkspace<Authored>(workspace, new AuthorIn(kind, new EditEntry(ParseEntry(entry), Fields(fields))), ct).ConfigureAwait(false);
    }

    public async Task DeleteEntryAsync(string workspace, ToolKind kind, string entry, CancellationToken ct)
    {
        await AskWorkspace<Authored>(workspace, new AuthorIn(kind, new DeleteEntry(ParseEntry(entry))), ct).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<EntryView>> EntriesAsync(string workspace, ToolKind kind, CancellationToken ct) =>
        AskWorkspace<IReadOnlyList<EntryView>>(workspace, new GetEntries(kind), ct);

    public async Task<FileInfoView> PutFileAsync(string workspace, string name, Stream content, CancellationToken ct)
    {
        var upload = await FileTransfer.UploadAsync((m, t) => AskWorkspace<object>(workspace, m, t), name, content, ct).ConfigureAwait(false);
        // What the folder shows at this path came with the answer (listing the whole folder after
        // every put made 1,000 puts quadratic).
        var files = upload.Shown;
        var stored = files.FirstOrDefault(f => f.Name == name && f.Hash == Convert.ToHexStringLower(upload.ContentHash))
            ?? files.FirstOrDefault(f => f.Name == name)
            ?? throw new PeerRequestException("the file was stored but is not listed", 500);
        _system.Log.Info("Stored {Name} in {Workspace}: {Size} bytes, new content: {NewBytes} bytes in {NewChunks} of {Chunks} chunks",
            name, workspace, upload.Size, upload.NewBytes, upload.NewChunks, upload.Chunks);
        return stored with { NewContentBytes = upload.NewBytes };
    }

    public Task GetFileAsync(string workspace, string name, Stream destination, CancellationToken ct) =>
        FileTransfer.DownloadAsync((m, t) => AskWorkspace<object>(workspace, m, t), name, destination, ct);

    public Task<IReadOnlyList<FileInfoView>> FilesAsync(string workspace, CancellationToken ct) =>
        AskWorkspace<IReadOnlyList<FileInfoView>>(workspace, new GetFiles(), ct);

    public async Task<IAsyncEnumerable<AlertView>> WatchAsync(string? workspace, CancellationToken ct)
    {
        // An unknown workspace fails here, before the stream starts, so the API can answer 404.
        if (workspace is not null) await ShowWorkspaceAsync(workspace, ct).ConfigureAwait(false);
        var channel = Channel.CreateBounded<AlertView>(new BoundedChannelOptions(1024) { FullMode = BoundedChannelFullMode.DropOldest });
        var bridge = _system.ActorOf(Props.Create(() => new AlertBridge(channel.Writer, workspace)));
        // Subscribed here rather than in the bridge's PreStart (which runs later, on another thread):
        // what is published from now on is in its mailbox, so the caller's "subscribed" is true.
        _system.EventStream.Subscribe(bridge, typeof(Alert));
        _system.EventStream.Subscribe(bridge, typeof(PresenceProtocol.PresenceChanged));
        // Stopped when the watcher leaves, whether or not it ever read.
        var registration = ct.Register(() => _system.Stop(bridge));
        return Read(channel.Reader, bridge, registration, ct);
    }

    private async IAsyncEnumerable<AlertView> Read(ChannelReader<AlertView> alerts, IActorRef bridge, CancellationTokenRegistration registration,
        [EnumeratorCancellation] CancellationToken ct)
    {
        try
        {
            await foreach (var alert in alerts.ReadAllAsync(ct).ConfigureAwait(false)) yield return alert;
        }
        finally
        {
            await registration.DisposeAsync().ConfigureAwait(false);
            _system.Stop(bridge);
        }
    }

    private static EntryFields Fields(IReadOnlyDictionary<string, string> fields)
    {
        try
        {
            return new EntryFields(fields);
        }
        catch (ArgumentException e)
        {
            throw new PeerRequestException(e.Message);
        }
    }

    /// <summary>Copies alerts and presence changes from the event stream (subscribed by <see cref="WatchAsync"/>) into one watcher's channel.</summary>
    private sealed class AlertBridge : UntypedActor
    {
        private readonly ChannelWriter<AlertView> _writer;
        private readonly string? _workspace;

        public AlertBridge(ChannelWriter<AlertView> writer, string? workspace)
        {
            _writer = writer;
            _workspace = workspace;
        }

        protected override void PostStop()
        {
            Context.System.EventStream.Unsubscribe(Self);
            _writer.TryComplete();
        }

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Alert a when _workspace is null || a.Workspace is null || a.Workspace == _workspace:
                    _writer.TryWrite(new AlertView(a.Time.ToString("O"), a.Kind, a.Workspace, a.Text));
                    break;
                case PresenceProtocol.PresenceChanged p:
                    _writer.TryWrite(new AlertView(DateTimeOffset.UtcNow.ToString("O"), "presence", null,
                        $"device {p.Presence.Device.Short} of {p.Presence.Account.Short} is {p.Presence.Status.ToString().ToLowerInvariant()}"));
                    break;
                default:
                    break;
            }
        }
    }
}

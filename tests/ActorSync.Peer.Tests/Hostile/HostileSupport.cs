using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Peer.Links;
using ActorSync.Peer.Tests.Actors;
using ActorSync.Peer.Tests.Sync;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Xunit;

namespace ActorSync.Peer.Tests.Hostile;

/// <summary>Hostile specs start real peers; they run one at a time so two loaded cores keep up.</summary>
[CollectionDefinition(Name)]
public sealed class HostileCollection
{
    public const string Name = "Hostile peers (real peers, one spec at a time)";
}

/// <summary>
/// Two real peers (ann and bob, gRPC with mutual TLS on 127.0.0.1, SQLite) sharing a workspace that
/// ann created; optionally with more accounts invited, for rogue devices to join as members.
/// </summary>
internal sealed class SharedWorkspace : IAsyncDisposable
{
    private SharedWorkspace(TestPeer ann, TestPeer bob, string id)
    {
        Ann = ann;
        Bob = bob;
        Id = id;
    }

    public TestPeer Ann { get; }
    public TestPeer Bob { get; }
    public string Id { get; }
    public WorkspaceId WorkspaceId => WorkspaceId.Parse(Id);

    public static async Task<SharedWorkspace> StartAsync(params RemoteMember[] alsoInvite)
    {
        var ann = await TestPeer.StartAsync("ann");
        var bob = await TestPeer.StartAsync("bob");
        // Only ann dials (bob learns her card without an address): two links dialed at once race in
        // PeerLink's duplicate resolution and can lose the invitation (see PeerLinkSpecs); these specs are about other attacks.
        await ann.Api.AddContactAsync(await bob.Api.CardAsync(default), bob.Host.ListenAddress, default);
        await bob.Api.AddContactAsync(await ann.Api.CardAsync(default), null, default);
        var ws = await ann.Api.CreateWorkspaceAsync("Under attack", default);
        await ann.Api.CreateEntryAsync(ws, ToolKind.Discussion, new Dictionary<string, string> { ["text"] = "before" }, default);
        await ann.Api.InviteAsync(ws, (await bob.Api.InfoAsync(default)).Account, Role.Participant, default);
        foreach (var member in alsoInvite)
        {
            await ann.Api.AddContactAsync(member.Card.ToText(), null, default);
            await ann.Api.InviteAsync(ws, member.Account.Id.ToString(), Role.Participant, default);
        }
        // The next change rotates the epoch key to every member invited so far.
        await ann.Api.CreateEntryAsync(ws, ToolKind.Chat, new Dictionary<string, string> { ["text"] = "welcome" }, default);
        await TestPeer.Eventually(async () => (await bob.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "bob receives the invitation");
        await bob.Api.AcceptAsync(ws, default);
        var shared = new SharedWorkspace(ann, bob, ws);
        await shared.ConvergedAsync("bob's first copy");
        return shared;
    }

    public async Task<string> HashAsync(TestPeer peer) => (await peer.Api.ShowWorkspaceAsync(Id, default)).StateHash;

    public async Task ConvergedAsync(string what) =>
        await TestPeer.Eventually(async () =>
            (await Bob.Api.JoinProgressAsync(Id, default)).Complete && await HashAsync(Ann) == await HashAsync(Bob), what);

    /// <summary>
    /// The proof every hostile spec ends with: both real peers still take commands, still sync both
    /// ways over their link, and end with equal state hashes.
    /// </summary>
    public async Task ProveStillServingAsync(string after)
    {
        var fromBob = await Bob.Api.CreateEntryAsync(Id, ToolKind.Chat, new Dictionary<string, string> { ["text"] = "bob, after " + after }, default);
        var fromAnn = await Ann.Api.CreateEntryAsync(Id, ToolKind.Chat, new Dictionary<string, string> { ["text"] = "ann, after " + after }, default);
        await TestPeer.Eventually(async () =>
        {
            var annChat = await Ann.Api.EntriesAsync(Id, ToolKind.Chat, default);
            var bobChat = await Bob.Api.EntriesAsync(Id, ToolKind.Chat, default);
            return annChat.Any(e => e.Id == fromBob) && bobChat.Any(e => e.Id == fromAnn) && await HashAsync(Ann) == await HashAsync(Bob);
        }, "ann and bob exchange new entries and converge after " + after);
    }

    public async ValueTask DisposeAsync()
    {
        await Bob.DisposeAsync();
        await Ann.DisposeAsync();
    }
}

/// <summary>
/// A device run by hand from ActorSync.Core and a <see cref="GrpcLinkTransport"/>: it has a real
/// account, device key and TLS key (pinned on its own card), so a victim that knows the card
/// accepts its links; what it sends over them is up to the spec.
/// </summary>
internal sealed class RogueDevice : IAsyncDisposable
{
    private readonly List<RogueLink> _links = [];

    public RogueDevice(string name, GrpcLinkOptions? options = null)
    {
        Member = new RemoteMember(name);
        Transport = new GrpcLinkTransport(Member.Tls, Pins, options ?? new GrpcLinkOptions());
    }

    public RemoteMember Member { get; }
    public PinDirectory Pins { get; } = new();
    public GrpcLinkTransport Transport { get; }

    /// <summary>Guards the member's replica, which the links' pumps and the spec both touch.</summary>
    public object Gate { get; } = new();

    public async Task<RogueLink> DialAsync(TestPeer victim)
    {
        var card = ContactCard.Parse(await victim.Api.CardAsync(default));
        var device = card.Devices[0];
        Pins.Add(device.Id, device.TlsPin!);
        var connection = await Transport.DialAsync(device.Id, victim.Host.ListenAddress!, CancellationToken.None);
        var link = new RogueLink(this, connection);
        _links.Add(link);
        return link;
    }

    /// <summary>Joins the workspace over a link to a member that invited this device: invitation, summary, first copy.</summary>
    public async Task JoinAsync(RogueLink link, SharedWorkspace ws)
    {
        var invitation = await link.NextAsync(f => f.BodyCase == LinkFrame.BodyOneofCase.Invitation, "the invitation");
        lock (Gate) Member.Join(invitation.Invitation.Invitation.ToByteArray());
        link.Send(RemoteMember.Summary(ws.WorkspaceId, VersionVector.Empty));
        var target = await ws.HashAsync(ws.Ann);
        await TestPeer.Eventually(() => Task.FromResult(StateHash() == target), Member.Account.Name + " gets its first copy");
    }

    public string StateHash()
    {
        lock (Gate) return Member.Replica!.State.StateHash();
    }

    /// <summary>Runs <paramref name="action"/> on the replica under the gate.</summary>
    public T With<T>(Func<Replica, T> action)
    {
        lock (Gate) return action(Member.Replica!);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var link in _links) await link.Connection.DisposeAsync();
        await Transport.DisposeAsync();
        Member.Dispose();
    }
}

/// <summary>One link a rogue device opened: everything received is kept, batches are applied to its replica, acks are counted.</summary>
internal sealed class RogueLink
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly RogueDevice _owner;
    private readonly Channel<LinkFrame> _inbox = Channel.CreateUnbounded<LinkFrame>();
    private readonly ConcurrentDictionary<WorkspaceId, int> _batchesSent = new();
    private readonly ConcurrentDictionary<WorkspaceId, int> _acks = new();

    public RogueLink(RogueDevice owner, ILinkConnection connection)
    {
        _owner = owner;
        Connection = connection;
        _ = Task.Run(PumpAsync);
    }

    public ILinkConnection Connection { get; }

    /// <summary>Every frame received so far, in order.</summary>
    public ConcurrentQueue<LinkFrame> Received { get; } = new();

    public void Send(LinkFrame frame)
    {
        if (frame.BodyCase == LinkFrame.BodyOneofCase.Deltas && TryWorkspace(frame.Deltas.Workspace) is { } ws)
            _batchesSent.AddOrUpdate(ws, 1, (_, n) => n + 1);
        Assert.True(Connection.TrySend(frame), "the rogue's link refused a frame: " + (Connection.Closed.IsCompleted ? Connection.Closed.Result : "queue full"));
    }

    /// <summary>
    /// Sends an empty batch and waits for the victim to ack every batch sent so far: a member's workspace
    /// answers each batch with exactly one ack, in order, so everything sent before has been handled.
    /// </summary>
    public async Task<VersionVector> BarrierAsync(WorkspaceId ws)
    {
        Send(RemoteMember.BatchOf(ws, []));
        var expected = _batchesSent[ws];
        await TestPeer.Eventually(() => Task.FromResult(_acks.GetValueOrDefault(ws) >= expected), "acks for every batch sent");
        return Received.Last(f => f.BodyCase == LinkFrame.BodyOneofCase.Ack && TryWorkspace(f.Ack.Workspace) == ws).Ack.Applied.ToVersionVector();
    }

    public async Task<LinkFrame> NextAsync(Func<LinkFrame, bool> match, string what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                var frame = await _inbox.Reader.ReadAsync(timeout.Token);
                if (match(frame)) return frame;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"no frame ({what}) within {Patience}; link closed: {Connection.Closed.IsCompleted}");
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var frame in Connection.ReadAllAsync(CancellationToken.None))
            {
                Received.Enqueue(frame);
                switch (frame.BodyCase)
                {
                    case LinkFrame.BodyOneofCase.Ack when TryWorkspace(frame.Ack.Workspace) is { } ws:
                        _acks.AddOrUpdate(ws, 1, (_, n) => n + 1);
                        break;
                    case LinkFrame.BodyOneofCase.Deltas:
                        lock (_owner.Gate)
                        {
                            if (_owner.Member.Replica is { } replica && TryWorkspace(frame.Deltas.Workspace) == replica.Id)
                                _owner.Member.Receive(frame.Deltas.Deltas);
                        }
                        break;
                    default:
                        break;
                }
                await _inbox.Writer.WriteAsync(frame);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or LinkException or IOException or InvalidOperationException)
        {
            // the link is down; Connection.Closed says why
        }
        _inbox.Writer.TryComplete();
    }

    private static WorkspaceId? TryWorkspace(Google.Protobuf.ByteString bytes)
    {
        try
        {
            return bytes.ToWorkspaceId();
        }
        catch (ActorSync.Core.Encoding.WireFormatException)
        {
            return null;
        }
    }
}

/// <summary>Deltas a hostile device can put on the wire, bypassing the checks an honest replica makes before sealing.</summary>
internal static class Forge
{
    /// <summary>The header the given device would write next, from this replica's view.</summary>
    public static DeltaHeader NextHeader(Replica view, AccountId author, DeviceId device, ToolId tool, OpKind kind, long millis) =>
        new(view.Id, view.State.Current.Epoch, author, device, view.State.Applied[device] + 1,
            [.. view.Heads.Where(h => h.Device != device).Order()], HlcTimestamp.From(millis, 0), tool, kind);

    /// <summary>Seals an entry under any header, signed with any key (the keyring is the rogue's own, a member's).</summary>
    public static SealedDelta Seal(Replica view, DeltaHeader header, DeltaOp op, SigningKeyPair signer) =>
        DeltaCrypto.Seal(header, op, view.Keyring, signer);

    public static CreateEntry Entry(string text) => new(EntryFields.Of(("text", text)));

    /// <summary>The same delta with one bit flipped at <paramref name="index"/> (negative: from the end).</summary>
    public static byte[] Flipped(SealedDelta delta, int index)
    {
        var bytes = delta.Bytes.ToArray();
        bytes[index < 0 ? bytes.Length + index : index] ^= 0x01;
        return bytes;
    }
}

/// <summary>A plain TCP listener at a stale address: it writes garbage, or accepts and says nothing. Counts connections.</summary>
internal sealed class StaleListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _clients = [];
    private readonly bool _garbage;
    private readonly Task _accepting;
    private int _accepted;

    public StaleListener(bool garbage)
    {
        _garbage = garbage;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                _clients.Add(client);
                if (_garbage) _ = ServeGarbageAsync(client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task ServeGarbageAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            await stream.WriteAsync(RandomNumberGenerator.GetBytes(4096), _stop.Token);
            var sink = new byte[4096];
            while (await stream.ReadAsync(sink, _stop.Token) > 0) { }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // the dialer hung up on us, or the spec ended
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var c in _clients) c.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}

/// <summary>A TCP relay that counts the connections it forwards (to see a peer dial a stale address that a real peer now holds).</summary>
internal sealed class CountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<TcpClient> _sockets = [];
    private readonly Task _accepting;
    private int _accepted;

    public CountingProxy(string target)
    {
        var uri = new Uri("https://" + target);
        _target = new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(_target, _stop.Token);
                _sockets.Add(inbound);
                _sockets.Add(outbound);
                _ = PumpAsync(inbound.GetStream(), outbound.GetStream());
                _ = PumpAsync(outbound.GetStream(), inbound.GetStream());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0) await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            to.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            // one side went away
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var s in _sockets) s.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}

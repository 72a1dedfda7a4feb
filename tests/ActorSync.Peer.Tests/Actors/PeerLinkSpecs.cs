using System.Collections.Concurrent;
using System.Threading.Channels;
using Akka.Actor;
using Akka.TestKit;
using ActorSync.Core.Identity;
using ActorSync.Peer.Actors;
using ActorSync.Peer.Actors.Links;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Peer.Actors.Links.LinkProtocol;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// One <see cref="PeerLink"/> under a probe standing in for the link manager, over scripted
/// connections: it announces its route, passes frames both ways, redials, and when both devices
/// dialed at once keeps the same link on both ends.
/// </summary>
public sealed class PeerLinkSpecs : PeerActorSpec
{
    private static readonly TimeSpan BackoffMin = TimeSpan.FromMilliseconds(50);
    private readonly TestProbe _manager;
    private readonly TestProbe _routes;
    private readonly ScriptedTransport _transport = new();
    private readonly DeviceId _lower;
    private readonly DeviceId _higher;

    public PeerLinkSpecs(ITestOutputHelper output) : base(PeerFiles.Create("ann"), "peer-link-specs", output)
    {
        _manager = CreateTestProbe("links");
        _routes = CreateTestProbe("routes");
        Sys.EventStream.Subscribe(_routes.Ref, typeof(LinkStateChanged));
        var a = DeviceId.FromSigningKey(Guid.NewGuid().ToByteArray());
        var b = DeviceId.FromSigningKey(Guid.NewGuid().ToByteArray());
        (_lower, _higher) = a.CompareTo(b) < 0 ? (a, b) : (b, a);
    }

    private IActorRef Link(DeviceId self, DeviceId remote) =>
        _manager.ChildActorOf(PeerLink.Props(self, remote, _transport, new KnownDevices(new PinDirectory()), ActorRefs.Nobody, null,
            BackoffMin, TimeSpan.FromMilliseconds(200)));

    private static LinkFrame Ping(ulong n) => new() { Ping = new Ping { Nonce = n } };

    private LinkStateChanged NextRoute() => _routes.ExpectMsg<LinkStateChanged>(Patience);

    [Fact]
    public void PeerLink_should_announce_an_accepted_link_and_carry_frames_both_ways()
    {
        var link = Link(_lower, _higher);
        var inbound = new ScriptedConnection(_higher, inbound: true);
        link.Tell(new PeerLink.Accept(inbound));
        Assert.Equal(new LinkStateChanged(_higher, true, "direct"), NextRoute());

        inbound.Arrive(Ping(1));
        Assert.Equal(new InboundFrame(_higher, Ping(1)), _manager.ExpectMsg<InboundFrame>(Patience));
        link.Tell(new SendFrame(_higher, Ping(2)));
        AwaitCondition(() => inbound.Sent.Contains(Ping(2)), Patience);

        inbound.CloseRemotely("the remote device closed the link");
        Assert.Equal(new LinkStateChanged(_higher, false, "none"), NextRoute());
        // No route now: frames are dropped (anti-entropy resends what matters), nothing crashes.
        link.Tell(new SendFrame(_higher, Ping(3)));
        Assert.DoesNotContain(Ping(3), inbound.Sent);
    }

    [Fact]
    public void PeerLink_should_dial_the_hinted_address_and_dial_again_after_the_link_drops()
    {
        var link = Link(_lower, _higher);
        var first = _transport.Next(_higher);
        link.Tell(new DialHint(_higher, "127.0.0.1:7001"));
        Assert.Equal(new LinkStateChanged(_higher, true, "direct"), NextRoute());
        Assert.Equal((_higher, "127.0.0.1:7001"), _transport.Dials.Single());

        var second = _transport.Next(_higher);
        first.CloseRemotely("the remote device went away");
        Assert.False(NextRoute().Up);
        Assert.True(NextRoute().Up);
        Assert.Equal(2, _transport.Dials.Count);
        link.Tell(new SendFrame(_higher, Ping(9)));
        AwaitCondition(() => second.Sent.Contains(Ping(9)), Patience);
    }

    [Fact]
    public void PeerLink_should_keep_redialing_with_backoff_while_dials_fail()
    {
        var link = Link(_lower, _higher);
        link.Tell(new DialHint(_higher, "127.0.0.1:7001"));
        AwaitCondition(() => _transport.Dials.Count >= 4, Patience);
        // Then the device comes back.
        var back = _transport.Next(_higher);
        Assert.True(NextRoute().Up);
        link.Tell(new SendFrame(_higher, Ping(5)));
        AwaitCondition(() => back.Sent.Contains(Ping(5)), Patience);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PeerLink_should_keep_the_link_dialed_by_the_lower_device_id_when_both_sides_dialed(bool selfIsLower)
    {
        var (self, remote) = selfIsLower ? (_lower, _higher) : (_higher, _lower);
        var link = Link(self, remote);
        var outbound = _transport.Next(remote);
        link.Tell(new DialHint(remote, "127.0.0.1:7001"));
        Assert.True(NextRoute().Up);
        var inbound = new ScriptedConnection(remote, inbound: true);
        link.Tell(new PeerLink.Accept(inbound));

        // The lower id's dial wins on both ends: ours if we are lower, theirs otherwise.
        var (kept, dropped) = selfIsLower ? (outbound, inbound) : (inbound, outbound);
        AwaitCondition(() => dropped.Disposed, Patience);
        link.Tell(new SendFrame(remote, Ping(7)));
        AwaitCondition(() => kept.Sent.Contains(Ping(7)), Patience);
        Assert.False(kept.Disposed);
        kept.Arrive(Ping(8));
        Assert.Equal(Ping(8), _manager.ExpectMsg<InboundFrame>(Patience).Frame);
    }

    [Fact]
    public void PeerLink_should_not_lose_frames_the_other_end_sent_on_the_duplicate_link_it_drops()
    {
        // We are the lower id and our own dial is up; the remote's dial arrives later, already carrying
        // what the remote sent on it (to the remote it was the link in use until it saw ours).
        var link = Link(_lower, _higher);
        _transport.Next(_higher);
        link.Tell(new DialHint(_higher, "127.0.0.1:7001"));
        Assert.True(NextRoute().Up);
        var theirs = new ScriptedConnection(_higher, inbound: true);
        var invitation = new LinkFrame { Invitation = new InvitationEnvelope { Invitation = Google.Protobuf.ByteString.CopyFromUtf8("signed invitation") } };
        theirs.Arrive(invitation);
        link.Tell(new PeerLink.Accept(theirs));

        Assert.Equal(invitation, _manager.ExpectMsg<InboundFrame>(Patience).Frame);
    }

    /// <summary>Hands out scripted connections in order; with none scripted, a dial fails as an unreachable address does.</summary>
    private sealed class ScriptedTransport : ILinkTransport
    {
        private readonly ConcurrentQueue<ScriptedConnection> _next = new();

        public ConcurrentQueue<(DeviceId Device, string Address)> Dials { get; } = new();

        public ScriptedConnection Next(DeviceId remote)
        {
            var connection = new ScriptedConnection(remote, inbound: false);
            _next.Enqueue(connection);
            return connection;
        }

        public string? ListenAddress => null;

        public Task StartAsync(Func<ILinkConnection, Task> onInbound, CancellationToken ct) => Task.CompletedTask;

        public Task<ILinkConnection> DialAsync(DeviceId device, string address, CancellationToken ct)
        {
            Dials.Enqueue((device, address));
            return _next.TryDequeue(out var connection)
                ? Task.FromResult<ILinkConnection>(connection)
                : Task.FromException<ILinkConnection>(new LinkException($"could not open a link to {address}: refused"));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A link whose arriving frames and closing the spec scripts; it records what was sent on it.</summary>
internal sealed class ScriptedConnection(DeviceId remote, bool inbound) : ILinkConnection
{
    private readonly Channel<LinkFrame> _incoming = Channel.CreateUnbounded<LinkFrame>();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DeviceId Remote { get; } = remote;
    public bool Inbound { get; } = inbound;
    public ConcurrentQueue<LinkFrame> Sent { get; } = new();
    public bool Disposed { get; private set; }
    public Task<string> Closed => _closed.Task;

    public bool TrySend(LinkFrame frame)
    {
        if (_closed.Task.IsCompleted) return false;
        Sent.Enqueue(frame);
        return true;
    }

    /// <summary>As with a real link, frames already received stay readable after it closes.</summary>
    public IAsyncEnumerable<LinkFrame> ReadAllAsync(CancellationToken ct) => _incoming.Reader.ReadAllAsync(ct);

    public void Arrive(LinkFrame frame) => _incoming.Writer.TryWrite(frame);

    public void CloseRemotely(string reason)
    {
        _closed.TrySetResult(reason);
        _incoming.Writer.TryComplete();
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        CloseRemotely("closed by this device");
        return ValueTask.CompletedTask;
    }
}

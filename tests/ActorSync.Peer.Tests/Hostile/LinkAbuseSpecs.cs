using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Peer.Tests.Actors;
using ActorSync.Peer.Tests.Sync;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Peer.Tests.Hostile;

/// <summary>
/// ARCHITECTURE.md section 6, invariant 5 over real links: a dialer with a valid certificate sends
/// malformed frames, bytes that are not frames at all, and frames over the size limit. Malformed
/// content is dropped, unparseable or oversized input costs that one link, and the peer keeps
/// serving its other links and its workspace.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class LinkAbuseSpecs(ITestOutputHelper output)
{
    private static LinkFrame Frame(Action<LinkFrame> fill)
    {
        var frame = new LinkFrame();
        fill(frame);
        return frame;
    }

    [Fact(Timeout = 300_000)]
    public async Task Peer_should_drop_malformed_frames_from_a_member_and_keep_the_link_and_the_workspace()
    {
        await using var mallory = new RogueDevice("mallory");
        await using var ws = await SharedWorkspace.StartAsync(mallory.Member);
        var toAnn = await mallory.DialAsync(ws.Ann);
        await mallory.JoinAsync(toAnn, ws);
        var before = await ws.Ann.Api.ShowWorkspaceAsync(ws.Id, default);
        var id = ws.WorkspaceId.ToWire();
        var genuine = mallory.With(r => r.Log.Last());
        var hugeVector = new VersionVectorMsg();
        for (var i = 0; i <= VersionVector.MaxEntries; i++)
            hugeVector.Entries.Add(new VectorEntry { Device = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(20)), Seq = 1 });
        var twice = new VersionVectorMsg { Entries = { new VectorEntry { Device = mallory.Member.Id.ToWire(), Seq = 1 }, new VectorEntry { Device = mallory.Member.Id.ToWire(), Seq = 2 } } };

        LinkFrame[] garbage =
        [
            new LinkFrame(),
            Frame(f => f.Hello = new Hello { Card = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(300)), Device = ByteString.CopyFrom([1, 2]) }),
            Frame(f => f.Ping = new Ping { Nonce = ulong.MaxValue }),
            Frame(f => f.Refusal = new Refusal { Reason = new string('x', 10_000) }),
            Frame(f => f.Summary = new Summary { Workspace = ByteString.CopyFrom([1, 2, 3]) }),
            Frame(f => f.Summary = new Summary { Workspace = id, Seen = twice }),
            Frame(f => f.Summary = new Summary { Workspace = id, Seen = hugeVector }),
            Frame(f => f.Ack = new Ack { Workspace = id, Applied = new VersionVectorMsg { Entries = { new VectorEntry { Device = ByteString.CopyFrom([9]), Seq = 3 } } } }),
            Frame(f => f.Invitation = new InvitationEnvelope { Invitation = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(2000)) }),
            RemoteMember.BatchOf(WorkspaceId.New(), [genuine.Bytes]),
            RemoteMember.BatchOf(ws.WorkspaceId,
            [
                [],
                RandomNumberGenerator.GetBytes(100),
                genuine.Bytes[..(genuine.Bytes.Length / 2)],
                [.. genuine.Bytes, 0],
                new byte[5 * 1024 * 1024], // one "delta" over the delta size limit, inside the frame limit
            ]),
        ];
        foreach (var frame in garbage) toAnn.Send(frame);
        await toAnn.BarrierAsync(ws.WorkspaceId);

        Assert.False(toAnn.Connection.Closed.IsCompleted, "malformed content must not cost the link");
        var after = await ws.Ann.Api.ShowWorkspaceAsync(ws.Id, default);
        Assert.Equal(before.StateHash, after.StateHash);
        Assert.Equal((before.Buffered, before.Parked, before.Rejected), (after.Buffered, after.Parked, after.Rejected));
        Assert.Empty(await ws.Ann.Api.InvitationsAsync(default));
        await ws.ProveStillServingAsync("malformed frames");
    }

    [Fact(Timeout = 300_000)]
    public async Task Peer_should_close_only_the_link_that_carried_bytes_that_are_not_a_frame()
    {
        await using var mallory = new RogueDevice("mallory");
        using var trudy = new RemoteMember("trudy");
        await using var ws = await SharedWorkspace.StartAsync(mallory.Member);
        await ws.Ann.Api.AddContactAsync(trudy.Card.ToText(), null, default);
        var toAnn = await mallory.DialAsync(ws.Ann);
        await mallory.JoinAsync(toAnn, ws);

        // Trudy's key is pinned (a contact), so her call is accepted; then she writes bytes no LinkFrame parses from.
        foreach (var junk in new[] { new byte[] { 0x0F, 0x01, 0x02 }, [0x0A, 0x7F, 0x01], [0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F] })
        {
            var status = await RawCallAsync(trudy, ws.Ann.Host.ListenAddress!, junk);
            output.WriteLine($"{Convert.ToHexString(junk)}: {status}");
            Assert.NotEqual(StatusCode.OK, status.StatusCode);
        }

        Assert.False(toAnn.Connection.Closed.IsCompleted, "another device's link must not be touched");
        Assert.True((await toAnn.BarrierAsync(ws.WorkspaceId)).Count > 0);
        await ws.ProveStillServingAsync("unparseable frames");
    }

    [Fact(Timeout = 300_000)]
    public async Task Peer_should_close_only_the_link_that_carried_an_oversized_frame_and_take_the_device_back()
    {
        await using var mallory = new RogueDevice("mallory", new GrpcLinkOptions { MaxFrameBytes = 16 * 1024 * 1024 });
        await using var ws = await SharedWorkspace.StartAsync(mallory.Member);
        var first = await mallory.DialAsync(ws.Ann);
        await mallory.JoinAsync(first, ws);

        var oversized = RemoteMember.BatchOf(ws.WorkspaceId, [RandomNumberGenerator.GetBytes(GrpcLinkTransport.MaxFrameBytes + 1024)]);
        first.Send(oversized);
        var reason = await first.Connection.Closed.WaitAsync(RogueLink.Patience);
        output.WriteLine("oversized frame: " + reason);

        // The peer still serves its real contact, and takes the same device back on a new link.
        await ws.ProveStillServingAsync("an oversized frame");
        var again = await mallory.DialAsync(ws.Ann);
        var acked = await again.BarrierAsync(ws.WorkspaceId);
        Assert.True(acked.Dominates(mallory.With(r => r.Seen)), "the new link works: ann acks with everything mallory has");
    }

    /// <summary>
    /// A raw gRPC call to DeviceLink.Connect with the device's client certificate, writing bytes as
    /// they are; returns the status the server ended the call with.
    /// </summary>
    private static async Task<Status> RawCallAsync(RemoteMember device, string address, byte[] message)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = new X509CertificateCollection { device.Tls.Certificate },
                EnabledSslProtocols = SslProtocols.Tls13,
                // The server's key does not matter to this attacker.
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            },
        };
        using var channel = GrpcChannel.ForAddress("https://" + address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        var raw = Marshallers.Create<byte[]>(static b => b, static b => b);
        var connect = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "actorsync.v1.DeviceLink", "Connect", raw, raw);
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(connect, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60)));
        try
        {
            var headers = await call.ResponseHeadersAsync;
            Assert.NotNull(headers.Get(GrpcLinkTransport.AcceptedHeader));
            await call.RequestStream.WriteAsync(message);
            while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
            return call.GetStatus();
        }
        catch (RpcException e)
        {
            return e.Status;
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Peer.Tests.Links.LinkTestDevice;

namespace ActorSync.Peer.Tests.Links;

public sealed class GrpcLinkTransportSpecs(ITestOutputHelper output)
{
    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_exchange_frames_both_ways()
    {
        await using var server = await StartAsync();
        await using var client = await StartAsync(listen: null);
        client.Trust(server);

        await using var outbound = await client.DialAsync(server);
        var inbound = await server.NextInboundAsync();
        Assert.Equal(server.Id, outbound.Remote);
        Assert.False(outbound.Inbound);
        Assert.Equal(client.Id, inbound.Remote);
        Assert.True(inbound.Inbound);

        var sent = new[]
        {
            new LinkFrame { Hello = new Hello { Card = ByteString.CopyFromUtf8("card"), Device = ByteString.CopyFrom(client.Id.Value.ToBytes()) } },
            new LinkFrame { Summary = new Summary { Workspace = ByteString.CopyFrom(new byte[20]), Seen = new VersionVectorMsg { Entries = { new VectorEntry { Device = ByteString.CopyFrom(client.Id.Value.ToBytes()), Seq = 42 } } } } },
            Payload(1024 * 1024),
        };
        foreach (var frame in sent) Assert.True(outbound.TrySend(frame));
        Assert.Equal(sent, await ReadAsync(inbound, sent.Length));

        var replies = new[] { Payload(1024 * 1024), Ping(7), new LinkFrame { Summary = new Summary { Workspace = ByteString.CopyFrom(new byte[20]) } } };
        foreach (var frame in replies) Assert.True(inbound.TrySend(frame));
        Assert.Equal(replies, await ReadAsync(outbound, replies.Length));
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_refuse_an_unknown_client_key_and_keep_serving_known_devices()
    {
        await using var server = await StartAsync();
        await using var known = await StartAsync(listen: null);
        await using var stranger = await StartAsync(listen: null);
        known.Trust(server);
        // The stranger knows the server's key, but the server does not know the stranger's.
        stranger.Pins.Add(server.Id, server.Certificate.Pin);

        await using var before = await known.DialAsync(server);
        var beforeInbound = await server.NextInboundAsync();

        var refused = await Assert.ThrowsAsync<LinkException>(() => stranger.DialAsync(server));

        output.WriteLine(refused.Message);
        Assert.Contains("unknown device key", refused.Message, StringComparison.Ordinal);
        Assert.Contains("refused", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Transport.RejectedCalls);

        Assert.True(before.TrySend(Ping(1)));
        Assert.Equal(Ping(1), (await ReadAsync(beforeInbound, 1))[0]);
        await using var after = await known.DialAsync(server);
        var afterInbound = await server.NextInboundAsync();
        Assert.True(afterInbound.TrySend(Ping(2)));
        Assert.Equal(Ping(2), (await ReadAsync(after, 1))[0]);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_refuse_a_server_whose_key_does_not_match_the_pin()
    {
        await using var server = await StartAsync();
        await using var client = await StartAsync(listen: null);
        server.Pins.Add(client.Id, client.Certificate.Pin);
        using var impostorKey = DeviceCertificate.Create(server.Id);
        client.Pins.Add(server.Id, impostorKey.Pin);

        var refused = await Assert.ThrowsAsync<LinkException>(() => client.DialAsync(server));

        output.WriteLine(refused.Message);
        Assert.Contains("pin", refused.Message, StringComparison.Ordinal);
        Assert.Contains(DeviceCertificate.PinText(impostorKey.Pin), refused.Message, StringComparison.Ordinal);
        Assert.Contains(DeviceCertificate.PinText(server.Certificate.Pin), refused.Message, StringComparison.Ordinal);
        // The dialer checks the server key after its side of the TLS 1.3 handshake, so the server
        // sees a connection that closes without a call, not a failed handshake: nothing to count.
        Assert.Equal(0, server.Transport.RejectedCalls);

        // With the right pin the same two devices link at once: the refusal cost one connection only.
        client.Pins.Add(server.Id, server.Certificate.Pin);
        await ProvesLinkWorks(client, server);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_fail_fast_against_a_plain_tcp_listener_that_writes_garbage()
    {
        await using var client = await StartAsync(listen: null, options: new GrpcLinkOptions { ConnectTimeout = TimeSpan.FromSeconds(2) });
        using var stop = new CancellationTokenSource();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var garbage = Task.Run(() => ServeGarbage(listener, stop.Token));
        var fake = NewDeviceId();
        client.Pins.Add(fake, RandomNumberGenerator.GetBytes(32));

        var watch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<LinkException>(() => client.Transport.DialAsync(fake, $"127.0.0.1:{port}", CancellationToken.None));
        output.WriteLine(failure.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
        Assert.Contains($"127.0.0.1:{port}", failure.Message, StringComparison.Ordinal);

        await stop.CancelAsync();
        listener.Stop();
        await garbage;
        await ProvesStillWorking(client);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_time_out_against_a_listener_that_never_answers()
    {
        await using var client = await StartAsync(listen: null, options: new GrpcLinkOptions { ConnectTimeout = TimeSpan.FromSeconds(1) });
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        // Accepted by the kernel backlog and never read: a TCP connect succeeds, TLS never starts.
        var fake = NewDeviceId();
        client.Pins.Add(fake, RandomNumberGenerator.GetBytes(32));

        var watch = Stopwatch.StartNew();
        var failure = await Assert.ThrowsAsync<LinkException>(() => client.Transport.DialAsync(fake, $"127.0.0.1:{port}", CancellationToken.None));
        output.WriteLine(failure.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.Contains("no TLS answer", failure.Message, StringComparison.Ordinal);
        listener.Stop();
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_explain_a_refused_connection_and_an_unpinned_device()
    {
        await using var client = await StartAsync(listen: null);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var device = NewDeviceId();

        var unpinned = await Assert.ThrowsAsync<LinkException>(() => client.Transport.DialAsync(device, $"127.0.0.1:{port}", CancellationToken.None));

        output.WriteLine(unpinned.Message);
        Assert.Contains("no TLS key is pinned", unpinned.Message, StringComparison.Ordinal);

        client.Pins.Add(device, RandomNumberGenerator.GetBytes(32));
        var refused = await Assert.ThrowsAsync<LinkException>(() => client.Transport.DialAsync(device, $"127.0.0.1:{port}", CancellationToken.None));
        output.WriteLine(refused.Message);
        Assert.Contains("refused", refused.Message, StringComparison.Ordinal);

        var malformed = await Assert.ThrowsAsync<LinkException>(() => client.Transport.DialAsync(device, "no-port-here", CancellationToken.None));

        output.WriteLine(malformed.Message);
        Assert.Contains("host:port", malformed.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_count_a_client_without_a_certificate_and_keep_serving()
    {
        await using var server = await StartAsync();
        await using var client = await StartAsync(listen: null);
        client.Trust(server);

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, new Uri("https://" + server.Address).Port);
            await using var tls = new SslStream(tcp.GetStream());
            try
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "peer",
                    EnabledSslProtocols = SslProtocols.Tls13,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                });
                // TLS 1.3 lets the client finish first; the server's refusal arrives on the first read.
                await tls.ReadAsync(new byte[16]).AsTask().WaitAsync(Patience);
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
                // The refusal we expect.
            }
        }
        await Eventually(() => server.Transport.FailedHandshakes >= 1, "the server counts the certificate-less handshake");

        await ProvesLinkWorks(client, server);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_close_only_the_link_that_carried_an_oversized_frame()
    {
        await using var server = await StartAsync();
        await using var big = await StartAsync(listen: null, options: new GrpcLinkOptions { MaxFrameBytes = 16 * 1024 * 1024 });
        await using var other = await StartAsync(listen: null);
        big.Trust(server);
        other.Trust(server);

        await using var bigLink = await big.DialAsync(server);
        var bigInbound = await server.NextInboundAsync();
        await using var otherLink = await other.DialAsync(server);
        var otherInbound = await server.NextInboundAsync();

        Assert.True(bigLink.TrySend(Payload(GrpcLinkTransport.MaxFrameBytes + 1024)));
        var reason = await bigInbound.Closed.WaitAsync(Patience);
        Assert.Contains("too large", reason, StringComparison.Ordinal);
        await bigLink.Closed.WaitAsync(Patience);

        Assert.True(otherLink.TrySend(Ping(3)));
        Assert.Equal(Ping(3), (await ReadAsync(otherInbound, 1))[0]);
        Assert.True(otherInbound.TrySend(Ping(4)));
        Assert.Equal(Ping(4), (await ReadAsync(otherLink, 1))[0]);
        Assert.False(otherLink.Closed.IsCompleted);
        await ProvesLinkWorks(big, server);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_close_a_link_whose_own_side_sends_an_oversized_frame()
    {
        await using var server = await StartAsync();
        await using var client = await StartAsync(listen: null);
        client.Trust(server);
        await using var link = await client.DialAsync(server);
        var inbound = await server.NextInboundAsync();

        Assert.True(link.TrySend(Payload(GrpcLinkTransport.MaxFrameBytes + 1024)));
        Assert.Contains("too large", await link.Closed.WaitAsync(Patience), StringComparison.Ordinal);
        await inbound.Closed.WaitAsync(Patience);
        Assert.False(link.TrySend(Ping(1)));
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_complete_the_other_sides_Closed_when_the_dialer_disposes()
    {
        await using var server = await StartAsync();
        await using var client = await StartAsync(listen: null);
        client.Trust(server);
        var link = await client.DialAsync(server);
        var inbound = await server.NextInboundAsync();

        // Frames queued just before a clean close still arrive.
        for (ulong i = 0; i < 3; i++) Assert.True(link.TrySend(Ping(i)));
        await link.DisposeAsync();

        Assert.Equal(GrpcLinkConnection.ClosedLocallyReason, await link.Closed.WaitAsync(Patience));
        Assert.Equal(GrpcLinkConnection.ClosedRemotelyReason, await inbound.Closed.WaitAsync(Patience));
        Assert.Equal([Ping(0), Ping(1), Ping(2)], await ReadAsync(inbound, 10));
        Assert.False(link.TrySend(Ping(9)));
        await Eventually(() => server.Transport.OpenLinks == 0 && client.Transport.OpenLinks == 0, "both transports forget the link");
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_complete_the_dialers_Closed_when_the_accepting_side_disposes()
    {
        await using var server = await StartAsync();
        await using var client = await StartAsync(listen: null);
        client.Trust(server);
        await using var link = await client.DialAsync(server);
        var inbound = await server.NextInboundAsync();

        Assert.True(inbound.TrySend(Ping(5)));
        await inbound.DisposeAsync();

        await link.Closed.WaitAsync(Patience);
        Assert.Equal([Ping(5)], await ReadAsync(link, 10));
        await ProvesLinkWorks(client, server);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_reconnect_to_a_server_restarted_on_the_same_port()
    {
        var serverId = NewDeviceId();
        // Both incarnations hold the same key, as a restarted peer loads its saved certificate.
        using var serverKey = DeviceCertificate.Create(serverId);
        await using var client = await StartAsync(listen: null);
        var first = await StartAsync(id: serverId, certificate: CopyOf(serverKey));
        var port = new Uri("https://" + first.Address).Port;
        client.Trust(first);

        var link = await client.DialAsync(first);
        await first.NextInboundAsync();
        await first.DisposeAsync();
        await link.Closed.WaitAsync(Patience);
        Assert.False(link.TrySend(Ping(1)));
        await link.DisposeAsync();

        await using var second = await StartAsync(listen: $"127.0.0.1:{port}", id: serverId, certificate: CopyOf(serverKey));
        second.Pins.Add(client.Id, client.Certificate.Pin);
        Assert.Equal(first.Address, second.Address);
        await ProvesLinkWorks(client, second);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_log_refusals_at_most_once_per_address_per_interval()
    {
        using var logs = new CapturedLogs();
        using var factory = logs.Factory();
        await using var server = await StartAsync(logs: factory);
        await using var stranger = await StartAsync(listen: null);
        stranger.Pins.Add(server.Id, server.Certificate.Pin);

        for (var i = 0; i < 5; i++) await Assert.ThrowsAsync<LinkException>(() => stranger.DialAsync(server));

        Assert.Equal(5, server.Transport.RejectedCalls);
        var refusals = logs.Lines.Where(l => l.Message.Contains("Refused", StringComparison.Ordinal)).ToList();
        Assert.Single(refusals);
        Assert.Contains("127.0.0.1", refusals[0].Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_never_log_frame_contents()
    {
        using var logs = new CapturedLogs();
        using var factory = logs.Factory();
        await using var server = await StartAsync(logs: factory);
        await using var client = await StartAsync(listen: null, options: new GrpcLinkOptions { MaxFrameBytes = 16 * 1024 * 1024 }, logs: factory);
        client.Trust(server);
        const string secret = "plaintext-that-must-not-leak";
        var tooBig = new LinkFrame { Refusal = new Refusal { Reason = secret + new string('x', GrpcLinkTransport.MaxFrameBytes) } };

        await using var link = await client.DialAsync(server);
        var inbound = await server.NextInboundAsync();
        Assert.True(link.TrySend(new LinkFrame { Refusal = new Refusal { Reason = secret } }));
        await ReadAsync(inbound, 1);
        Assert.True(link.TrySend(tooBig));
        await inbound.Closed.WaitAsync(Patience);
        await link.Closed.WaitAsync(Patience);

        foreach (var line in logs.Lines) output.WriteLine($"{line.Level}: {line.Message}");
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, l => l.Message.Contains(secret, StringComparison.Ordinal));
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_say_clearly_when_its_port_is_taken()
    {
        await using var first = await StartAsync();
        var taken = new GrpcLinkTransport(first.Certificate, first.Pins, new GrpcLinkOptions { ListenAddress = first.Address });
        await using (taken)
        {
            var failure = await Assert.ThrowsAsync<LinkException>(() => taken.StartAsync(_ => Task.CompletedTask, CancellationToken.None));
            output.WriteLine(failure.Message);
            Assert.Contains(first.Address, failure.Message, StringComparison.Ordinal);
        }
        await using var client = await StartAsync(listen: null);
        client.Trust(first);
        await ProvesLinkWorks(client, first);
    }

    [Fact(Timeout = 120_000)]
    public async Task GrpcLinkTransport_should_notice_a_frozen_peer_through_keepalive()
    {
        var quick = new GrpcLinkOptions { KeepAliveInterval = TimeSpan.FromSeconds(1), KeepAliveTimeout = TimeSpan.FromSeconds(1) };
        await using var server = await StartAsync(options: quick);
        await using var client = await StartAsync(listen: null, options: quick);
        client.Trust(server);
        await using var proxy = new FreezableProxy(server.Address);
        await using var link = await client.Transport.DialAsync(server.Id, proxy.Address, CancellationToken.None);
        var inbound = await server.NextInboundAsync();
        Assert.True(link.TrySend(Ping(1)));
        await ReadAsync(inbound, 1);

        proxy.Freeze();
        var watch = Stopwatch.StartNew();
        var reasons = await Task.WhenAll(link.Closed, inbound.Closed).WaitAsync(Patience);

        output.WriteLine($"noticed after {watch.Elapsed}: {reasons[0]} / {reasons[1]}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
    }

    private static DeviceCertificate CopyOf(DeviceCertificate certificate)
    {
        var folder = Directory.CreateTempSubdirectory("actorsync-link-").FullName;
        try
        {
            certificate.Save(folder);
            return DeviceCertificate.Load(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task ProvesLinkWorks(LinkTestDevice client, LinkTestDevice server)
    {
        await using var link = await client.DialAsync(server);
        var inbound = await server.NextInboundAsync();
        Assert.True(link.TrySend(Ping(100)));
        Assert.Equal(Ping(100), (await ReadAsync(inbound, 1))[0]);
        Assert.True(inbound.TrySend(Ping(101)));
        Assert.Equal(Ping(101), (await ReadAsync(link, 1))[0]);
    }

    private static async Task ProvesStillWorking(LinkTestDevice client)
    {
        await using var server = await StartAsync();
        client.Trust(server);
        await ProvesLinkWorks(client, server);
    }

    private static async Task ServeGarbage(TcpListener listener, CancellationToken ct)
    {
        var noise = RandomNumberGenerator.GetBytes(4096);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                using var connection = await listener.AcceptTcpClientAsync(ct);
                var stream = connection.GetStream();
                try
                {
                    await stream.WriteAsync(noise, ct);
                    // Drain until the dialer gives up, as a confused server would.
                    var sink = new byte[4096];
                    while (await stream.ReadAsync(sink, ct) > 0) { }
                }
                catch (IOException)
                {
                    // The dialer hung up on us: expected.
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped by the test.
        }
    }
}

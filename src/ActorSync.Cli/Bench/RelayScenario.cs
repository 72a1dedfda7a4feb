using System.Diagnostics;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Peer.Home;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using Google.Protobuf;
using Grpc.Net.Client;

namespace ActorSync.Cli.Bench;

/// <summary>
/// A relay node on its own (SQLite journal, one node): one device streams enqueues at it with
/// many in flight, to recipients spread over many mailboxes; the figure is envelopes durably
/// accepted per second. Then the mailboxes are filled to the target count and the node's resident
/// memory is read.
/// </summary>
internal static class RelayScenario
{
    public static async Task<IReadOnlyList<BenchMetric>> RunAsync(BenchScale scale, Action<string> progress, CancellationToken ct)
    {
        await using var world = BenchWorld.Create();
        await world.StartRelayAsync(ct);
        if (!RelayAddress.TryParse(world.RelayAddress, out var relay) || relay is null) throw new InvalidOperationException("the relay printed no address");
        using var home = PeerHome.Init(Path.Combine(world.Root, "sender"), "sender", []);
        using var channel = Channel(relay, home.Tls);
        using var call = new RelayFront.RelayFrontClient(channel).Open(cancellationToken: ct);
        await call.RequestStream.WriteAsync(new RelayFrame { Hello = new RelayHello { Card = ByteString.CopyFrom(home.Card.Encoded), Device = home.Device.Id.ToWire() } }, ct);
        if (!await call.ResponseStream.MoveNext(ct) || call.ResponseStream.Current.BodyCase != RelayFrame.BodyOneofCase.Welcome)
            throw new InvalidOperationException("the relay did not welcome the benchmark device");

        var recipients = Enumerable.Range(0, 1000).Select(_ => ByteString.CopyFrom(RandomNumberGenerator.GetBytes(20))).ToArray();
        var accepted = 0L;
        var refused = 0L;
        var reader = Task.Run(async () =>
        {
            while (await call.ResponseStream.MoveNext(ct))
            {
                if (call.ResponseStream.Current.BodyCase != RelayFrame.BodyOneofCase.Accepted) continue;
                if (call.ResponseStream.Current.Accepted.Error.Length == 0) Interlocked.Increment(ref accepted);
                else Interlocked.Increment(ref refused);
            }
        }, ct);

        var payload = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(256));
        long Answered() => Interlocked.Read(ref accepted) + Interlocked.Read(ref refused);
        async Task SendAsync(int count, int window)
        {
            var before = Answered();
            for (var i = 0; i < count; i++)
            {
                // At most `window` unanswered: a sender that outruns the relay would only queue in memory.
                while (i - (Answered() - before) >= window) await Task.Delay(1, ct);
                var enqueue = new Enqueue { MessageId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16)), Payload = payload };
                enqueue.Recipients.Add(recipients[i % recipients.Length]);
                await call.RequestStream.WriteAsync(new RelayFrame { Enqueue = enqueue }, ct);
            }
            await BenchWorld.Until(() => Task.FromResult(Answered() - before >= count), "the relay to answer every enqueue", ct, TimeSpan.FromMinutes(30), pauseMs: 5);
        }

        await SendAsync(scale.Of(2000, 200), 1000); // warm-up: mailboxes started, JIT settled
        var measured = scale.Of(50_000, 2000);
        var clock = Stopwatch.StartNew();
        await SendAsync(measured, 4000);
        var rate = measured / clock.Elapsed.TotalSeconds;
        progress($"{measured} envelopes accepted in {clock.Elapsed.TotalSeconds:F2} s ({Interlocked.Read(ref refused)} refused)");

        var buffered = scale.Of(1_000_000, 5000);
        var more = buffered - (int)Interlocked.Read(ref accepted);
        if (more > 0) await SendAsync(more, 4000);
        progress($"{Interlocked.Read(ref accepted)} envelopes buffered");
        GC.KeepAlive(reader);
        var rss = world.Relay!.ResidentBytes() / (1024.0 * 1024);
        return
        [
            new("relay", "envelopes durably accepted per second, one node (SQLite)", rate, "envelopes/s", 25_000, "higher"),
            new("memory", $"relay holding {Interlocked.Read(ref accepted):N0} envelopes of 256 B", rss, "MiB", buffered >= 1_000_000 ? 1024 : null),
        ];
    }

    private static GrpcChannel Channel(RelayAddress relay, DeviceCertificate certificate) =>
        GrpcChannel.ForAddress(relay.BaseUri, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = [certificate.Certificate],
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, presented, _, _) =>
                        presented is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(presented), relay.Pin),
                },
            },
            DisposeHttpClient = true,
        });
}

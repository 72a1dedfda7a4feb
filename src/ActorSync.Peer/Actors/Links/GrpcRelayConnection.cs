using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace ActorSync.Peer.Actors.Links;

/// <summary>The first rung to a relay: one bidirectional gRPC stream (HTTP/2, TLS 1.3, this device's client certificate).</summary>
internal sealed class GrpcRelayConnection : RelayConnection
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<RelayFrame, RelayFrame> _call;

    private GrpcRelayConnection(RelayAddress address, GrpcChannel channel, AsyncDuplexStreamingCall<RelayFrame, RelayFrame> call) : base(address)
    {
        _channel = channel;
        _call = call;
    }

    /// <summary>Opens the stream and presents this device (card + TLS key); returns once the relay welcomed it.</summary>
    public static async Task<RelayConnection> OpenAsync(RelayAddress address, DeviceCertificate certificate, ContactCard card, DeviceId device)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [certificate.Certificate],
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(presented), address.Pin),
            },
        };
        var channel = GrpcChannel.ForAddress(address.BaseUri, new GrpcChannelOptions
        {
            HttpHandler = handler, DisposeHttpClient = true, MaxReceiveMessageSize = 9 * 1024 * 1024, MaxSendMessageSize = 9 * 1024 * 1024,
        });
        var call = new RelayFront.RelayFrontClient(channel).Open();
        var connection = new GrpcRelayConnection(address, channel, call);
        try
        {
            await call.RequestStream.WriteAsync(new RelayFrame { Hello = new RelayHello { Card = ByteString.CopyFrom(card.Encoded), Device = device.ToWire() } })
                .ConfigureAwait(false);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            if (!await call.ResponseStream.MoveNext(deadline.Token).ConfigureAwait(false) || call.ResponseStream.Current.BodyCase != RelayFrame.BodyOneofCase.Welcome)
                throw new LinkException("the relay did not welcome this device");
            return connection;
        }
        catch
        {
            connection.Close();
            throw;
        }
    }

    public override async Task<string> RunAsync(Action<RelayFrame> inbound)
    {
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var frame in Outbound.Reader.ReadAllAsync().ConfigureAwait(false))
                    await _call.RequestStream.WriteAsync(frame).ConfigureAwait(false);
                return "closed";
            }
            catch (Exception e)
            {
                return "write failed: " + e.GetType().Name;
            }
        });
        var reader = Task.Run(async () =>
        {
            try
            {
                while (await _call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false)) inbound(_call.ResponseStream.Current);
                return "the relay closed the stream";
            }
            catch (Exception e)
            {
                return "read failed: " + e.GetType().Name;
            }
        });
        var first = await Task.WhenAny(writer, reader).ConfigureAwait(false);
        return await first.ConfigureAwait(false);
    }

    public override void Close()
    {
        Outbound.Writer.TryComplete();
        _call.Dispose();
        _channel.Dispose();
    }
}

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
using Xunit;

namespace ActorSync.Relay.Tests.Front;

/// <summary>Only the device whose pinned TLS key a card lists may open (and so drain) that device's mailbox.</summary>
public class RelayAuthenticationSpecs
{
    [Fact]
    public async Task Device_claiming_another_devices_card_should_be_refused_and_the_relay_should_keep_serving()
    {
        await using var fx = await RelayFixture.StartAsync();
        using var victimAccount = AccountIdentity.Generate("victim");
        using var victimDevice = DeviceIdentity.Generate();
        using var victimTls = DeviceCertificate.Create(victimDevice.Id);
        var victimCard = ContactCard.Create(victimAccount, [new CardDevice(victimDevice.Id, victimDevice.Signing.PublicKeyBytes, victimTls.Pin)], [], 1);

        using var thiefDevice = DeviceIdentity.Generate();
        using var thiefTls = DeviceCertificate.Create(thiefDevice.Id);

        var refused = await Assert.ThrowsAsync<RpcException>(() => Hello(fx, thiefTls, victimCard, victimDevice.Id));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

        // The rightful device still gets in.
        var welcome = await Hello(fx, victimTls, victimCard, victimDevice.Id);
        Assert.Equal(RelayFrame.BodyOneofCase.Welcome, welcome.BodyCase);
    }

    [Fact]
    public async Task Garbage_hello_should_be_refused_with_a_clear_error()
    {
        await using var fx = await RelayFixture.StartAsync();
        using var device = DeviceIdentity.Generate();
        using var tls = DeviceCertificate.Create(device.Id);
        using var channel = Channel(fx, tls);
        using var call = new RelayFront.RelayFrontClient(channel).Open();
        await call.RequestStream.WriteAsync(new RelayFrame { Hello = new RelayHello { Card = ByteString.CopyFromUtf8("not a card"), Device = device.Id.ToWire() } });
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("hello", error.Status.Detail, StringComparison.Ordinal);
    }

    private static async Task<RelayFrame> Hello(RelayFixture fx, DeviceCertificate tls, ContactCard card, DeviceId device)
    {
        using var channel = Channel(fx, tls);
        using var call = new RelayFront.RelayFrontClient(channel).Open();
        await call.RequestStream.WriteAsync(new RelayFrame { Hello = new RelayHello { Card = ByteString.CopyFrom(card.Encoded), Device = device.ToWire() } });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        return call.ResponseStream.Current;
    }

    private static GrpcChannel Channel(RelayFixture fx, DeviceCertificate tls) =>
        GrpcChannel.ForAddress($"https://127.0.0.1:{fx.Relay.Address.Port}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(5),
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = [tls.Certificate],
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(c), fx.Relay.Address.Pin),
                },
            },
            DisposeHttpClient = true,
        });
}

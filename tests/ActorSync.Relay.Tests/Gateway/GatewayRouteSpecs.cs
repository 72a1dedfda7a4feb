using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Relay.Hosting;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>Where the gateway answers: on its own HTTP/1.1 listener, and only when the operator asked for it (--http).</summary>
public class GatewayRouteSpecs
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gateway_routes_should_not_answer_on_the_grpc_front_end(bool withGateway)
    {
        var root = Path.Combine(Path.GetTempPath(), "actorsync-gateway-test-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await using var relay = await RelayHost.StartAsync(new RelayOptions(root, Http: withGateway ? "127.0.0.1:0" : null));
            Assert.Equal(withGateway, relay.GatewayAddress is not null);
            using var device = DeviceIdentity.Generate();
            using var tls = DeviceCertificate.Create(device.Id);
            using var handler = new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(5),
                SslOptions = new SslClientAuthenticationOptions
                {
                    ClientCertificates = [tls.Certificate],
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, presented, _, _) =>
                        presented is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(presented), relay.Address.Pin),
                },
            };
            using var http = new HttpClient(handler) { BaseAddress = relay.Address.BaseUri };
            using var request = new HttpRequestMessage(HttpMethod.Post, GatewayContract.Challenge)
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using Google.Protobuf;
using Xunit;

namespace ActorSync.Relay.Tests.Gateway;

/// <summary>
/// A deliberately small HTTP/1.1 client of the relay gateway for specs, apart from the peer's real
/// one so a spec sees the wire as it is: pins the relay's TLS key, sends protobuf bodies and any
/// Authorization header it is given, and hands back status, version and body untouched.
/// </summary>
internal sealed class GatewayClient : IDisposable
{
    private readonly HttpClient _http;

    public GatewayClient(RelayAddress address)
    {
        Address = address;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                // Self-signed: the relay is who its address's pin says, nothing else is checked.
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && DeviceCertificate.PinsEqual(DeviceCertificate.PinOf(presented), address.Pin),
            },
        };
        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = address.BaseUri,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // Longer than the longest long poll, so a poll that hangs shows as the relay's fault.
            Timeout = TimeSpan.FromSeconds(GatewayContract.MaxWaitSeconds + 30),
        };
    }

    public RelayAddress Address { get; }

    public static string Bearer(string token) => "Bearer " + token;

    public static ByteArrayContent Protobuf(IMessage message) => Bytes(message.ToByteArray());

    public static ByteArrayContent Bytes(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(GatewayContract.ContentType);
        return content;
    }

    /// <summary>One request, HTTP/1.1 exactly (unless told another version); <paramref name="authorization"/> is sent as it is (null: none).</summary>
    public async Task<GatewayReply> SendAsync(HttpMethod method, string pathAndQuery, HttpContent? body = null, string? authorization = null,
        CancellationToken ct = default, Version? version = null)
    {
        using var request = new HttpRequestMessage(method, pathAndQuery)
        {
            Version = version ?? HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = body,
        };
        if (authorization is not null) Assert.True(request.Headers.TryAddWithoutValidation("Authorization", authorization));
        using var response = await _http.SendAsync(request, ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        return new GatewayReply(response.StatusCode, response.Version, response.Content.Headers.ContentType?.MediaType, bytes);
    }

    public Task<GatewayReply> PostAsync(string path, IMessage message, string? authorization = null) =>
        SendAsync(HttpMethod.Post, path, Protobuf(message), authorization);

    /// <summary>POST challenge: the fresh bytes a device signs to sign in.</summary>
    public async Task<byte[]> ChallengeAsync()
    {
        var reply = await SendAsync(HttpMethod.Post, GatewayContract.Challenge);
        reply.ShouldBeOk();
        Assert.Equal("application/octet-stream", reply.ContentType);
        return reply.Body;
    }

    /// <summary>Challenge, then login signed by the device's own key: the bearer token.</summary>
    public async Task<string> SignInAsync(GatewayDevice device)
    {
        var challenge = await ChallengeAsync();
        var session = (await PostAsync(GatewayContract.Login, device.Login(challenge, Address.Pin))).Message(GatewaySession.Parser);
        Assert.False(string.IsNullOrEmpty(session.Token), "the login answer carries a token");
        return session.Token;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>What one gateway request got back, as it came.</summary>
internal sealed record GatewayReply(HttpStatusCode Status, Version Version, string? ContentType, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public override string ToString() => $"{(int)Status} {Status} ({ContentType}): {(ContentType == "text/plain" ? Text.TrimEnd() : $"{Body.Length} bytes")}";

    public void ShouldBeOk()
    {
        Assert.True(Status == HttpStatusCode.OK, $"expected 200 OK, got {this}");
        Assert.Equal(HttpVersion.Version11, Version);
    }

    /// <summary>A 200 answer whose body is the protobuf message <typeparamref name="T"/>.</summary>
    public T Message<T>(MessageParser<T> parser) where T : IMessage<T>
    {
        ShouldBeOk();
        Assert.Equal(GatewayContract.ContentType, ContentType);
        return parser.ParseFrom(Body);
    }

    public void ShouldBeNoContent()
    {
        Assert.True(Status == HttpStatusCode.NoContent, $"expected 204 No Content, got {this}");
        Assert.Empty(Body);
    }

    /// <summary>A refusal: this status and one plain-text line that says why (containing <paramref name="reason"/>).</summary>
    public void ShouldBeRefused(HttpStatusCode status, string reason, string? what = null)
    {
        var context = what is null ? "" : what + ": ";
        Assert.True(Status == status, $"{context}expected {(int)status} {status}, got {this}");
        Assert.True(ContentType == "text/plain", $"{context}a refusal is plain text, got {this}");
        var text = Text;
        Assert.True(text.EndsWith('\n') && text.IndexOf('\n', StringComparison.Ordinal) == text.Length - 1, $"{context}a refusal is one line, got {text}");
        Assert.True(text.Contains(reason, StringComparison.Ordinal), $"{context}expected the reason to say '{reason}', got {text}");
    }
}

using Akka.Actor;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Front;
using ActorSync.Relay.Presence;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ActorSync.Relay.Gateway;

/// <summary>
/// The relay's HTTP/1.1 gateway (over TLS): the route for devices behind proxies and firewalls that
/// break HTTP/2 and long-lived streams (Groove's HTTP encapsulation). Same mailboxes, limits and
/// errors as the gRPC front end, in plain request/response form: POST enqueue, long-poll GET
/// mailbox, POST delivered, POST/GET presence, POST pending. A device signs in by signing a fresh
/// challenge with its Ed25519 key (its card must list that key) and then sends the bearer token it
/// got. Every body is a protobuf message of relay.proto; every refusal is a status code and one
/// plain-text line; nothing a device sends is logged.
/// </summary>
public sealed class HttpGateway
{
    /// <summary>Most envelopes one long-poll answer carries.</summary>
    public const int MaxBatchEnvelopes = 512;

    /// <summary>How long a gateway device counts as online after its last presence post.</summary>
    public static readonly TimeSpan PresenceLease = TimeSpan.FromSeconds(60);

    private readonly ActorSystem _system;
    private readonly IActorRef _mailboxes;
    private readonly IActorRef _presence;
    private readonly MailboxDesk _desk;
    private readonly GatewayTokens _tokens;
    private readonly byte[] _relayPin;
    private readonly ILogger _log;

    public HttpGateway(ActorSystem system, IActorRef mailboxes, IActorRef presence, MailboxDesk desk, GatewayTokens tokens, byte[] relayPin,
        ILogger log)
    {
        _system = system;
        _mailboxes = mailboxes;
        _presence = presence;
        _desk = desk;
        _tokens = tokens;
        _relayPin = relayPin;
        _log = log;
    }

    private int MaxBody => _desk.Settings.MaxFrameBytes + 64 * 1024;

    public void Map(WebApplication app)
    {
        app.MapPost(GatewayContract.Challenge, () => Results.Bytes(_tokens.NewChallenge(), "application/octet-stream"));
        app.MapPost(GatewayContract.Login, (Func<HttpContext, Task<IResult>>)Login);
        app.MapPost(GatewayContract.Enqueue, (Func<HttpContext, Task<IResult>>)Enqueue);
        app.MapGet(GatewayContract.Mailbox, (Func<HttpContext, Task<IResult>>)Poll);
        app.MapPost(GatewayContract.Delivered, (Func<HttpContext, Task<IResult>>)Delivered);
        app.MapPost(GatewayContract.Pending, (Func<HttpContext, Task<IResult>>)Pending);
        app.MapPost(GatewayContract.Presence, (Func<HttpContext, Task<IResult>>)Publish);
        app.MapGet(GatewayContract.Presence, (Func<HttpContext, Task<IResult>>)Lookup);
    }

    private async Task<IResult> Login(HttpContext http)
    {
        var (login, refused) = await Read(http, GatewayLogin.Parser, MaxBody).ConfigureAwait(false);
        if (login is null) return refused!;
        if (!_tokens.IsFreshChallenge(login.Challenge.Span)) return Refuse(StatusCodes.Status401Unauthorized, "the challenge is stale or not from this relay node");
        try
        {
            var card = ContactCard.Decode(login.Card.Span);
            var device = login.Device.ToDeviceId();
            var listed = card.FindDevice(device) ?? throw new WireFormatException("the device is not on the card");
            if (login.Signature.Length != Signing.SignatureSize
                || !Signing.Verify(listed.PublicKey, GatewayContract.LoginMessage(_relayPin, login.Challenge.Span), login.Signature.Span))
                return Refuse(StatusCodes.Status401Unauthorized, "the signature is not the device's");
            return Protobuf(new GatewaySession
            {
                Token = _tokens.NewToken(device), ExpiresInSeconds = (uint)GatewayTokens.TokenLifetime.TotalSeconds,
            });
        }
        catch (WireFormatException e)
        {
            return Refuse(StatusCodes.Status400BadRequest, "bad login: " + e.Message);
        }
    }

    private async Task<IResult> Enqueue(HttpContext http)
    {
        if (Authenticate(http) is not { } sender) return Unauthorized();
        var (batch, refused) = await Read(http, EnqueueBatch.Parser, MaxBody).ConfigureAwait(false);
        if (batch is null) return refused!;
        if (batch.Enqueues.Count is 0 or > GatewayContract.MaxEnqueuesPerBatch)
            return Refuse(StatusCodes.Status400BadRequest, $"1 to {GatewayContract.MaxEnqueuesPerBatch} enqueues per request");
        var answers = await Task.WhenAll(batch.Enqueues.Select(e => _desk.StoreAsync(sender, e))).ConfigureAwait(false);
        var reply = new AcceptedBatch();
        reply.Accepted.AddRange(answers);
        return Protobuf(reply);
    }

    private async Task<IResult> Poll(HttpContext http)
    {
        if (Authenticate(http) is not { } device) return Unauthorized();
        var wait = 25;
        if (http.Request.Query.TryGetValue("wait", out var text)
            && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out wait)
                || wait > GatewayContract.MaxWaitSeconds))
            return Refuse(StatusCodes.Status400BadRequest, $"wait is 0 to {GatewayContract.MaxWaitSeconds} seconds");
        var answer = new TaskCompletionSource<EnvelopeBatch>(TaskCreationOptions.RunContinuationsAsynchronously);
        var session = _system.ActorOf(PollSession.Props(answer, _mailboxes, device.ToWire(), TimeSpan.FromSeconds(Math.Max(wait, 0)),
            MaxBatchEnvelopes, _desk.Settings.MaxFrameBytes));
        // The client hung up: answer (into the void) so the session detaches; its envelopes stay in the mailbox.
        await using var gone = http.RequestAborted.Register(() => session.Tell(PollSession.Finish.Instance)).ConfigureAwait(false);
        var batch = await answer.Task.ConfigureAwait(false);
        return Protobuf(batch);
    }

    private async Task<IResult> Delivered(HttpContext http)
    {
        if (Authenticate(http) is not { } device) return Unauthorized();
        var (delivered, refused) = await Read(http, Protocol.Relay.Delivered.Parser, MaxBody).ConfigureAwait(false);
        if (delivered is null) return refused!;
        try
        {
            _desk.Delivered(device, delivered.MessageIds);
            return Results.NoContent();
        }
        catch (WireFormatException e)
        {
            return Refuse(StatusCodes.Status400BadRequest, e.Message);
        }
    }

    private async Task<IResult> Pending(HttpContext http)
    {
        if (Authenticate(http) is not { } device) return Unauthorized();
        var (query, refused) = await Read(http, PendingQuery.Parser, 64 * 1024).ConfigureAwait(false);
        if (query is null) return refused!;
        try
        {
            return Protobuf(await _desk.PendingAsync(device, query).ConfigureAwait(false));
        }
        catch (WireFormatException e)
        {
            return Refuse(StatusCodes.Status400BadRequest, "bad pending query: " + e.Message);
        }
    }

    private async Task<IResult> Publish(HttpContext http)
    {
        if (Authenticate(http) is not { } device) return Unauthorized();
        var (publish, refused) = await Read(http, PresencePublish.Parser, 4 * 1024).ConfigureAwait(false);
        if (publish is null) return refused!;
        if (publish.Address.Length > 256) return Refuse(StatusCodes.Status400BadRequest, "address too long");
        _presence.Tell(new PresenceHub.Lease(new PresenceNotice { Device = device.ToWire(), Address = publish.Address, Online = true }, PresenceLease));
        return Results.NoContent();
    }

    private async Task<IResult> Lookup(HttpContext http)
    {
        if (Authenticate(http) is null) return Unauthorized();
        var asked = http.Request.Query["device"];
        if (asked.Count > MailboxDesk.MaxPendingDevices) return Refuse(StatusCodes.Status400BadRequest, $"at most {MailboxDesk.MaxPendingDevices} devices");
        var devices = new List<string>(asked.Count);
        foreach (var hex in asked)
        {
            if (hex is not { Length: Fingerprint.Size * 2 } || !hex.All(Uri.IsHexDigit))
                return Refuse(StatusCodes.Status400BadRequest, "device is the hex of a device id");
            devices.Add(hex.ToUpperInvariant());
        }
        var list = await _presence.Ask<PresenceList>(new PresenceHub.Query(devices), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return Protobuf(list);
    }

    private DeviceId? Authenticate(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) ? _tokens.DeviceOf(header[7..].Trim()) : null;
    }

    /// <summary>Reads a protobuf body of at most <paramref name="max"/> bytes; a clear refusal otherwise.</summary>
    private async Task<(T? Message, IResult? Refused)> Read<T>(HttpContext http, MessageParser<T> parser, int max) where T : class, IMessage<T>
    {
        if (http.Request.ContentLength > max) return (null, Refuse(StatusCodes.Status413PayloadTooLarge, $"a request body is at most {max} bytes"));
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > max) return (null, Refuse(StatusCodes.Status413PayloadTooLarge, $"a request body is at most {max} bytes"));
            buffer.Write(chunk, 0, read);
        }
        try
        {
            return (parser.ParseFrom(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)), null);
        }
        catch (InvalidProtocolBufferException)
        {
            _log.LogInformation("Gateway: a malformed {Message} body refused", typeof(T).Name);
            return (null, Refuse(StatusCodes.Status400BadRequest, $"the body is not a {typeof(T).Name} message"));
        }
    }

    private static IResult Protobuf(IMessage message) => Results.Bytes(message.ToByteArray(), GatewayContract.ContentType);

    private static IResult Unauthorized() => Refuse(StatusCodes.Status401Unauthorized, "sign in first (POST challenge, then login); the token is missing, expired or from another node");

    private static IResult Refuse(int status, string reason) => Results.Text(reason + "\n", "text/plain", statusCode: status);
}

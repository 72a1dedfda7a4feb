namespace ActorSync.Protocol;

/// <summary>
/// The relay's HTTP/1.1 gateway as both ends see it: where its routes are, and what a device signs
/// to sign in. Bodies are the protobuf messages of relay.proto (application/x-protobuf).
/// </summary>
public static class GatewayContract
{
    /// <summary>The path a gateway address ends with: https://HOST:PORT/gateway#PIN.</summary>
    public const string BasePath = "/gateway";

    public const string Challenge = BasePath + "/v1/challenge";
    public const string Login = BasePath + "/v1/login";
    public const string Enqueue = BasePath + "/v1/enqueue";
    public const string Mailbox = BasePath + "/v1/mailbox";
    public const string Delivered = BasePath + "/v1/delivered";
    public const string Pending = BasePath + "/v1/pending";
    public const string Presence = BasePath + "/v1/presence";

    public const string ContentType = "application/x-protobuf";

    /// <summary>Longest a long-poll GET of the mailbox waits for the first envelope, in seconds.</summary>
    public const int MaxWaitSeconds = 30;

    /// <summary>Most enqueues one POST may carry.</summary>
    public const int MaxEnqueuesPerBatch = 1024;

    private static readonly byte[] LoginContext = "actorsync-relay-login-v1"u8.ToArray();

    /// <summary>
    /// What a device signs with its Ed25519 key to sign in: a fixed context, the relay's TLS pin
    /// (so a signature given to one relay is worthless at another) and the relay's fresh challenge.
    /// </summary>
    public static byte[] LoginMessage(ReadOnlySpan<byte> relayPin, ReadOnlySpan<byte> challenge)
    {
        var message = new byte[LoginContext.Length + relayPin.Length + challenge.Length];
        LoginContext.CopyTo(message, 0);
        relayPin.CopyTo(message.AsSpan(LoginContext.Length));
        challenge.CopyTo(message.AsSpan(LoginContext.Length + relayPin.Length));
        return message;
    }
}

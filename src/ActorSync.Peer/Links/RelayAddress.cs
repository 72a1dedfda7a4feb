using ActorSync.Protocol;

namespace ActorSync.Peer.Links;

/// <summary>
/// How devices name a relay: "https://HOST:PORT#PIN" for its gRPC device front end, and
/// "https://HOST:PORT/gateway#PIN" for its HTTP/1.1 gateway; the pin is the SHA-256 of the relay's
/// TLS public key in hex, so a device authenticates the relay by key just as it does peers.
/// </summary>
public sealed record RelayAddress(string Host, int Port, byte[] Pin, bool IsGateway = false)
{
    public override string ToString() =>
        $"https://{HostPort}{(IsGateway ? GatewayContract.BasePath : "")}#{Convert.ToHexStringLower(Pin)}";

    public string HostPort => LinkAddress.Format(Host, Port);

    /// <summary>The base URI of the gateway's routes (and of the gRPC front end).</summary>
    public Uri BaseUri => new UriBuilder(Uri.UriSchemeHttps, Host, Port).Uri;

    public static bool TryParse(string? text, out RelayAddress? address)
    {
        address = null;
        if (text is null || !Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps) return false;
        if (uri.Query.Length > 0 || !string.IsNullOrEmpty(uri.UserInfo)) return false;
        var gateway = uri.AbsolutePath.TrimEnd('/') switch
        {
            "" => false,
            GatewayContract.BasePath => true,
            _ => (bool?)null,
        };
        if (gateway is null) return false;
        var fragment = uri.Fragment.TrimStart('#');
        if (fragment.Length != 64) return false;
        try
        {
            address = new RelayAddress(uri.Host.Trim('[', ']'), uri.Port, Convert.FromHexString(fragment), gateway.Value);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

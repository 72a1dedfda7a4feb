namespace ActorSync.Peer.Links;

/// <summary>
/// How devices name a relay: "https://HOST:PORT#PIN", the pin being the SHA-256 of the relay's TLS
/// public key in hex, so a device authenticates the relay by key just as it does peers.
/// </summary>
public sealed record RelayAddress(string Host, int Port, byte[] Pin)
{
    public override string ToString() => $"https://{Host}:{Port}#{Convert.ToHexStringLower(Pin)}";

    public string HostPort => LinkAddress.Format(Host, Port);

    public static bool TryParse(string? text, out RelayAddress? address)
    {
        address = null;
        if (text is null || !Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps) return false;
        var fragment = uri.Fragment.TrimStart('#');
        if (fragment.Length != 64) return false;
        try
        {
            address = new RelayAddress(uri.Host, uri.Port, Convert.FromHexString(fragment));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

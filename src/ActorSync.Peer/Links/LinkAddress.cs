using System.Globalization;

namespace ActorSync.Peer.Links;

/// <summary>"host:port" and "[v6]:port" addresses as cards and presence carry them.</summary>
internal static class LinkAddress
{
    public static (string Host, int Port) Parse(string address, bool allowAnyPort = false)
    {
        var text = address?.Trim();
        if (string.IsNullOrEmpty(text)) throw new LinkException("no link address given");
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) throw new LinkException($"'{text}' is not a host:port address");
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':', StringComparison.Ordinal)) throw new LinkException($"'{text}' is not a host:port address (write IPv6 hosts in brackets)");
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port > 65535 || (port == 0 && !allowAnyPort))
            throw new LinkException($"'{text}' has no valid port");
        return (host, port);
    }

    public static string Format(string host, int port) =>
        host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
}

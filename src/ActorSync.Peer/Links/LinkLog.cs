using Microsoft.Extensions.Logging;

namespace ActorSync.Peer.Links;

/// <summary>The transport's log lines: addresses, device ids, reasons; never frame contents.</summary>
internal static partial class LinkLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Accepting device links on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "TLS handshake from {RemoteAddress} failed ({Suppressed} more suppressed since the last line)")]
    public static partial void HandshakeFailed(ILogger logger, string remoteAddress, int suppressed);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Refused a link from {RemoteAddress}: {Reason} ({Suppressed} more suppressed since the last line)")]
    public static partial void Refused(ILogger logger, string remoteAddress, string reason, int suppressed);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Link {Direction} device {Device} at {RemoteAddress} failed: {Reason} ({Suppressed} more suppressed since the last line)")]
    public static partial void LinkFailed(ILogger logger, string direction, string device, string remoteAddress, string reason, int suppressed);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Link {Direction} device {Device} at {RemoteAddress} closed: {Reason}")]
    public static partial void ClosedCleanly(ILogger logger, string direction, string device, string remoteAddress, string reason);

    // The exception's type only: its message is the handler's and might quote what it was handed.
    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The handler of an inbound link from device {Device} failed with {ErrorType} ({Suppressed} more suppressed since the last line)")]
    public static partial void InboundHandlerFailed(ILogger logger, string device, string errorType, int suppressed);
}

using Microsoft.Extensions.Logging;

namespace ActorSync.Peer.Api;

/// <summary>The local API's log lines: routes, statuses and exception types; never tokens, bodies or file content.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Local API listening on {Url}")]
    public static partial void Listening(ILogger logger, string url);

    [LoggerMessage(EventId = 102, Level = LogLevel.Debug, Message = "Refused {Method} {Path}: missing or wrong bearer token")]
    public static partial void Unauthorized(ILogger logger, string method, string path);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "{Method} {Path} refused with {Status}: {Reason}")]
    public static partial void Refused(ILogger logger, string method, string path, int status, string reason);

    // The exception goes to the log (the user's own machine) so a bug can be found; the HTTP answer
    // carries only a generic line, because an exception message may quote keys or content.
    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "{Method} {Path} failed with {ErrorType}")]
    public static partial void Failed(ILogger logger, Exception exception, string method, string path, string errorType);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "{Method} {Path} failed with {ErrorType} after the answer had started; connection aborted")]
    public static partial void FailedMidResponse(ILogger logger, Exception exception, string method, string path, string errorType);
}

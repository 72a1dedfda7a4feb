namespace ActorSync.Cli.Commands;

/// <summary>A failure to report as one line on stderr with <see cref="ExitCode"/>; its message is meant for the user.</summary>
internal class CliException(string message, int exitCode = ExitCodes.Failed) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The command line itself is wrong (unknown verb or option, missing argument).</summary>
internal sealed class UsageException(string message) : CliException(message, ExitCodes.Usage);

/// <summary>No peer answers for the home: no address file, or nothing listening at it.</summary>
internal sealed class PeerNotRunningException(string home)
    : CliException($"no peer is running for {home} (start it with: actorsync peer --home {home})", ExitCodes.NotRunning);

/// <summary>The peer answered with an error status; the message is the API's one-line error.</summary>
internal sealed class PeerApiException(int status, string message) : CliException(message)
{
    public int Status { get; } = status;
}

/// <summary>Exit codes scripts can tell apart.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NotRunning = 3;
    /// <summary>Stopped by SIGINT/SIGTERM, as a shell reports 128 + SIGINT.</summary>
    public const int Interrupted = 130;
}

using System.Diagnostics;
using System.Reflection;

namespace ActorSync.EndToEnd.Tests.Support;

/// <summary>What one `actorsync` process did: its exit code and everything it wrote.</summary>
public sealed record CliResult(IReadOnlyList<string> Args, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The last non-empty line of stdout (ids: `init`, `ws create`, `discussion post` print them last).</summary>
    public string LastLine => Lines(Stdout).LastOrDefault() ?? "";

    /// <summary>The non-empty lines of stderr.</summary>
    public IReadOnlyList<string> ErrorLines => Lines(Stderr);

    public CliResult EnsureSuccess() => ExitCode == 0 ? this : throw new CliFailedException(this);

    public override string ToString() =>
        $"`actorsync {string.Join(' ', Args)}` exited {ExitCode}\n  stdout: {Stdout.TrimEnd()}\n  stderr: {Stderr.TrimEnd()}";

    private static string[] Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class CliFailedException(CliResult result) : Exception(result.ToString())
{
    public CliResult Result { get; } = result;
}

/// <summary>
/// Locates the built CLI and runs its verbs as separate processes. The CLI is
/// src/ActorSync.Cli/bin/&lt;Configuration&gt;/net10.0/actorsync.dll (the ProjectReference builds it in the
/// tests' configuration), else the copy beside the test binaries, else $ACTORSYNC_CLI.
/// </summary>
public static class ActorSyncCli
{
    /// <summary>No single verb takes this long; `ws accept` waits at most the peer's join-timeout (60 s).</summary>
    public static readonly TimeSpan VerbTimeout = TimeSpan.FromSeconds(150);

    private static readonly Lazy<string> LazyDll = new(LocateCli);
    private static readonly Lazy<string> LazyDotnet = new(LocateDotnet);

    public static string Dll => LazyDll.Value;
    public static string Dotnet => LazyDotnet.Value;

    /// <summary>`dotnet actorsync.dll ARGS`, with a clean environment (no inherited ACTORSYNC_HOME or config overlay).</summary>
    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(fileName) { UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment.Remove("ACTORSYNC_HOME");
        info.Environment.Remove("ACTORSYNC_PEER_CONFIG");
        // A relay sets its GC settings itself (RelayGc) unless given: never inherited from the test run.
        foreach (var name in new[] { "DOTNET_GCgen0size", "COMPlus_GCgen0size", "DOTNET_GCLOHThreshold", "COMPlus_GCLOHThreshold" })
            info.Environment.Remove(name);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return info;
    }

    /// <summary>Runs one verb to completion (bounded by <paramref name="timeout"/>) and returns what it did.</summary>
    /// <param name="environment">Variables to set for this run only (null removes one).</param>
    public static async Task<CliResult> RunAsync(IReadOnlyList<string> args, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = StartInfo(Dotnet, [Dll, .. args]);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(timeout ?? VerbTimeout);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already gone */ }
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"`actorsync {string.Join(' ', args)}` did not finish within {(timeout ?? VerbTimeout).TotalSeconds} s\n" +
                $"  stdout: {(await stdout).TrimEnd()}\n  stderr: {(await stderr).TrimEnd()}");
        }
        return new CliResult(args, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The folder of ActorSync.sln above the test binaries, if the tests run from the repository.</summary>
    public static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ActorSync.sln"))) return dir.FullName;
        }
        return null;
    }

    private static string LocateCli()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("ACTORSYNC_CLI") is { Length: > 0 } explicitPath) candidates.Add(explicitPath);
        var configuration = typeof(ActorSyncCli).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var framework = Path.GetFileName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        if (!framework.StartsWith("net", StringComparison.Ordinal)) framework = "net10.0";
        if (RepositoryRoot() is { } root) candidates.Add(Path.Combine(root, "src", "ActorSync.Cli", "bin", configuration, framework, "actorsync.dll"));
        candidates.Add(Path.Combine(AppContext.BaseDirectory, "actorsync.dll"));
        foreach (var candidate in candidates)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(candidate))!;
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir, "config", "peer.hocon"))
                && File.Exists(Path.Combine(dir, "actorsync.runtimeconfig.json")))
            {
                return Path.GetFullPath(candidate);
            }
        }
        throw new FileNotFoundException("the actorsync CLI is not built (looked at: " + string.Join(", ", candidates) + ")");
    }

    private static string LocateDotnet()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } dotnetRoot && File.Exists(Path.Combine(dotnetRoot, "dotnet")))
            return Path.Combine(dotnetRoot, "dotnet");
        return "dotnet";
    }
}

using System.Diagnostics;
using System.Text;
using Xunit;

// Not ...Tests.Cluster: a namespace named Cluster would hide Akka.Cluster.Cluster from every other spec namespace.
namespace ActorSync.Relay.Tests.Clustering;

/// <summary>
/// The relay cluster specs: one throwaway PostgreSQL server for all of them, and run alone (not in
/// parallel with other collections of this assembly): three cluster nodes judge each other's
/// liveness by heartbeats, and on two cores other specs starting ActorSystems meanwhile would
/// only add noise to the failover timings.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RelayClusterCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "Relay cluster on PostgreSQL";
}

/// <summary>
/// A throwaway PostgreSQL server from scripts/postgres.sh (which installs PostgreSQL with apt-get
/// when it is missing), started once for the collection and stopped and removed after it. When the
/// script fails, every spec of the collection fails with its message: nothing is skipped.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>Installing PostgreSQL on a fresh machine (apt-get update + install) takes a while.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(1);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "actorsync-pg-" + Guid.NewGuid().ToString("N")[..12]);

    static PostgresFixture()
    {
        // Three ActorSystems, Kestrel and Npgsql in one test process on two cores: do not wait for
        // the thread pool to grow (shared/FACTS.md).
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 16));
    }

    /// <summary>The Npgsql connection string the script printed.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>How long `postgres.sh start` took (install included, when it had to install).</summary>
    public TimeSpan StartTime { get; private set; }

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        var (code, stdout, stderr) = await RunScriptAsync("start", StartTimeout);
        StartTime = watch.Elapsed;
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (code != 0 || line is null || !line.StartsWith("Host=", StringComparison.Ordinal))
        {
            // A server may be running (say the database could not be created): do not leave it behind.
            await RunScriptAsync("stop", StopTimeout);
            throw new InvalidOperationException(
                $"scripts/postgres.sh start {_dir} failed (exit code {code}):{Environment.NewLine}{Tail(stderr)}{Environment.NewLine}stdout: {stdout.Trim()}");
        }
        ConnectionString = line;
    }

    public async Task DisposeAsync()
    {
        var (code, _, stderr) = await RunScriptAsync("stop", StopTimeout);
        if (code != 0) throw new InvalidOperationException($"scripts/postgres.sh stop {_dir} failed (exit code {code}):{Environment.NewLine}{Tail(stderr)}");
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunScriptAsync(string command, TimeSpan timeout)
    {
        var script = Path.Combine(RepositoryRoot(), "scripts", "postgres.sh");
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(command);
        start.ArgumentList.Add(_dir);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash for scripts/postgres.sh");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"scripts/postgres.sh {command} {_dir} did not finish within {timeout}:{Environment.NewLine}{Tail(await stderr)}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string Tail(string text, int lines = 40)
    {
        var all = text.Split('\n');
        var builder = new StringBuilder();
        foreach (var line in all.Skip(Math.Max(0, all.Length - lines))) builder.AppendLine(line.TrimEnd());
        return builder.ToString().TrimEnd();
    }

    /// <summary>The checkout this test assembly was built from: the folder above bin/ holding scripts/postgres.sh.</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "postgres.sh"))) return dir.FullName;
        }
        throw new FileNotFoundException("scripts/postgres.sh not found above " + AppContext.BaseDirectory);
    }
}

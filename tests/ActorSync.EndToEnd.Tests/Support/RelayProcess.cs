using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ActorSync.EndToEnd.Tests.Support;

/// <summary>
/// One `actorsync relay` node: a home folder and the process serving it, its stdout and stderr in
/// <see cref="LogPath"/> (never a pipe). Started with a bounded poll for the "relay address:" and
/// "cluster:" lines; killed with SIGKILL; disposed with SIGTERM, then SIGKILL if it lingers.
/// </summary>
public sealed partial class RelayProcess : IAsyncDisposable
{
    private Process? _process;

    public RelayProcess(string name, string home, string logPath)
    {
        Name = name;
        Home = home;
        LogPath = logPath;
    }

    public string Name { get; }
    public string Home { get; }
    public string LogPath { get; }

    /// <summary>`https://127.0.0.1:PORT#PIN`, what devices are given.</summary>
    public string Address { get; private set; } = "";

    /// <summary>`https://127.0.0.1:PORT/gateway#PIN`, the HTTP/1.1 gateway, when started with <see cref="Http"/>.</summary>
    public string HttpAddress { get; private set; } = "";

    /// <summary>Start with `--http 127.0.0.1:0` (the HTTP/1.1 gateway).</summary>
    public bool Http { get; set; }

    /// <summary>`akka.tcp://actorsync-relay@127.0.0.1:PORT`, what other nodes give as --seed.</summary>
    public string ClusterAddress { get; private set; } = "";

    public bool IsRunning => _process is { HasExited: false };
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Starts the node (`--seed` for every address given) and waits until it prints its addresses.</summary>
    public async Task StartAsync(string journal, params string[] seeds)
    {
        if (IsRunning) throw new InvalidOperationException($"{Name} is already running");
        Directory.CreateDirectory(Home);
        var args = new List<string>
        {
            "-c", "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1", "sh", LogPath,
            ActorSyncCli.Dotnet, ActorSyncCli.Dll, "relay", "--home", Home, "--journal", journal,
        };
        foreach (var seed in seeds) args.AddRange(["--seed", seed]);
        if (Http) args.AddRange(["--http", "127.0.0.1:0"]);
        _process = Process.Start(ActorSyncCli.StartInfo("/bin/sh", args)) ?? throw new InvalidOperationException("could not start the relay");
        ProcessRegistry.Add(_process);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var log = ReadLog();
            var address = AddressLine().Match(log);
            var cluster = ClusterLine().Match(log);
            var http = HttpLine().Match(log);
            if (address.Success && cluster.Success && (http.Success || !Http))
            {
                Address = address.Groups[1].Value;
                if (Http) HttpAddress = http.Groups[1].Value;
                ClusterAddress = cluster.Groups[1].Value;
                return;
            }
            if (_process.HasExited)
            {
                ProcessRegistry.Remove(_process);
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} while starting:\n{Tail(log, 40)}");
            }
            if (clock.Elapsed > PeerProcess.StartTimeout)
                throw new TimeoutException($"{Name} did not print its addresses within {PeerProcess.StartTimeout.TotalSeconds} s:\n{Tail(log, 40)}");
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL (`kill -9`): the node vanishes without leaving the cluster.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"{Name} was never started");
        if (!process.HasExited) process.Kill(entireProcessTree: false);
        using var bound = new CancellationTokenSource(PeerProcess.StartTimeout);
        await process.WaitForExitAsync(bound.Token);
        ProcessRegistry.Remove(process);
    }

    public string ReadLog()
    {
        if (!File.Exists(LogPath)) return "";
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return "\n" + reader.ReadToEnd();
    }

    public string Describe() =>
        $"--- relay {Name} ({(IsRunning ? $"running as pid {_process!.Id}" : "not running")}, {Address}, {ClusterAddress}); last log lines:\n{Tail(ReadLog(), 25)}";

    public async ValueTask DisposeAsync()
    {
        if (_process is not { } process) return;
        try
        {
            if (!process.HasExited)
            {
                using (var term = Process.Start(ActorSyncCli.StartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])))
                {
                    if (term is not null) await term.WaitForExitAsync();
                }
                using var polite = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                try
                {
                    await process.WaitForExitAsync(polite.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await process.WaitForExitAsync(bound.Token);
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // gone already, or the OS will reap it
        }
        finally
        {
            ProcessRegistry.Remove(process);
            process.Dispose();
        }
    }

    internal static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    [GeneratedRegex(@"\nrelay http: (https://\S+)\s*\n")]
    private static partial Regex HttpLine();

    [GeneratedRegex(@"\nrelay address: (https://\S+)\s*\n")]
    private static partial Regex AddressLine();

    [GeneratedRegex(@"\ncluster: (akka\.tcp://\S+)\s*\n")]
    private static partial Regex ClusterLine();
}

/// <summary>
/// A throwaway PostgreSQL server from scripts/postgres.sh (start DIR prints the Npgsql connection
/// string; stop DIR stops it and removes DIR). DIR is a short folder under /tmp (the socket path).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private PostgresServer(string dir, string connectionString)
    {
        Dir = dir;
        ConnectionString = connectionString;
    }

    public string Dir { get; }
    public string ConnectionString { get; }
    public string DataDir => Path.Combine(Dir, "data");

    public static string Script =>
        Path.Combine(ActorSyncCli.RepositoryRoot() ?? throw new InvalidOperationException("the tests do not run from the repository"),
            "scripts", "postgres.sh");

    public static async Task<PostgresServer> StartAsync()
    {
        var dir = Path.Combine("/tmp", "actorsync-pg-" + Guid.NewGuid().ToString("N")[..10]);
        var result = await RunAsync(TimeSpan.FromMinutes(15), "bash", Script, "start", dir);
        if (result.ExitCode != 0)
        {
            await RunAsync(TimeSpan.FromMinutes(1), "bash", Script, "stop", dir);
            throw new InvalidOperationException($"scripts/postgres.sh start {dir} failed with {result.ExitCode}:\n{result.Stdout}\n{result.Stderr}");
        }
        var line = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        return new PostgresServer(dir, line);
    }

    /// <summary>`pg_dump` of the database (plain SQL), from the bin folder of the installed server; null if none is found.</summary>
    public async Task<string?> DumpAsync()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin", "pg_dump")).Where(File.Exists).ToList()
            : [];
        var pgDump = candidates.OrderByDescending(c => c, StringComparer.Ordinal).FirstOrDefault();
        if (pgDump is null) return null;
        var parts = ConnectionString.Split(';').Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var result = await RunAsync(TimeSpan.FromMinutes(2), pgDump, "-h", parts["Host"], "-p", parts["Port"], "-U", parts["Username"],
            "--no-password", parts["Database"]);
        if (result.ExitCode != 0) throw new InvalidOperationException($"pg_dump failed with {result.ExitCode}: {result.Stderr}");
        return result.Stdout;
    }

    public async ValueTask DisposeAsync() => await RunAsync(TimeSpan.FromMinutes(1), "bash", Script, "stop", Dir);

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>
/// The running peer's local HTTP API (the address and bearer token files in its home), for writing
/// many entries quickly: one `actorsync` process per change would cost a CLI start-up each.
/// Uses the routes the CLI uses: POST v1/workspaces/WS/tools/TOOL/entries {"fields": {...}}.
/// </summary>
public sealed class PeerApi : IDisposable
{
    private readonly HttpClient _http;

    public PeerApi(PeerProcess peer)
    {
        var address = File.ReadAllText(peer.ApiAddressPath).Trim();
        var token = File.ReadAllText(Path.Combine(peer.Home, "api-token")).Trim();
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = new Uri(new Uri(address).GetLeftPart(UriPartial.Authority) + "/"),
            Timeout = TimeSpan.FromMinutes(2),
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>Creates an entry in <paramref name="tool"/> ("discussion", "chat"); its id.</summary>
    public async Task<string> CreateAsync(string ws, string tool, IReadOnlyDictionary<string, string> fields)
    {
        var route = $"v1/workspaces/{Uri.EscapeDataString(ws)}/tools/{tool}/entries";
        using var response = await _http.PostAsJsonAsync(route, new { fields });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {route} answered {(int)response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    public void Dispose() => _http.Dispose();
}

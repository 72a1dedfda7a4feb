using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ActorSync.Cli.Bench;

/// <summary>
/// One `actorsync peer` or `actorsync relay` process of a benchmark: this same executable started
/// again with a verb, its output in a log file (never a pipe that could fill), waited for with a
/// bounded poll of that log, and stopped with SIGTERM (SIGKILL if it lingers).
/// </summary>
internal sealed class BenchProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly Process _process;

    private BenchProcess(Process process, string logPath, long logStart)
    {
        _process = process;
        LogPath = logPath;
        LogStart = logStart;
    }

    public string LogPath { get; }

    /// <summary>Where this start's output begins in the log (a restart appends to the same file).</summary>
    public long LogStart { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Starts this executable with <paramref name="args"/> and waits until its log matches <paramref name="ready"/>.</summary>
    public static async Task<(BenchProcess Process, Match Ready)> StartAsync(IReadOnlyList<string> args, string logPath, Regex ready, CancellationToken ct)
    {
        var (file, prefix) = Self();
        // A restart appends to the same log: only what this start writes counts.
        var from = File.Exists(logPath) ? new FileInfo(logPath).Length : 0;
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var a in new[] { "-c", "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1", "sh", logPath, file }.Concat(prefix).Concat(args))
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + string.Join(' ', args.Take(1)));
        var bench = new BenchProcess(process, logPath, from);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var log = bench.ReadLog(from);
            var match = ready.Match(log);
            if (match.Success) return (bench, match);
            if (process.HasExited || clock.Elapsed > StartTimeout || ct.IsCancellationRequested)
            {
                await bench.DisposeAsync();
                throw new InvalidOperationException($"`actorsync {args[0]}` did not come up ({(process.HasExited ? "exited" : "timed out")}):\n{Tail(log, 20)}");
            }
            await Task.Delay(50, ct);
        }
    }

    /// <summary>How to run this executable again: the apphost itself, or `dotnet ActorSync.Cli.dll`.</summary>
    private static (string File, string[] Prefix) Self()
    {
        var path = Environment.ProcessPath ?? "dotnet";
        var dll = typeof(BenchProcess).Assembly.Location;
        return Path.GetFileNameWithoutExtension(path) == "dotnet" ? (path, [dll]) : (path, []);
    }

    public string ReadLog(long from = 0)
    {
        if (!File.Exists(LogPath)) return "";
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Min(from, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return "\n" + reader.ReadToEnd();
    }

    /// <summary>Resident memory of the process (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException("no VmRSS for process " + _process.Id);
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="patience"/>; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? patience = null)
    {
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
            using var bound = new CancellationTokenSource(patience ?? TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(20));
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        _process.Dispose();
    }

    private static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}

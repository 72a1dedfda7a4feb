using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ActorSync.EndToEnd.Tests.Support;

/// <summary>
/// One device: a home folder, and the `actorsync peer` process serving it (started, killed with
/// SIGKILL, stopped with SIGTERM, restarted on the same link port). The peer's stdout and stderr go
/// to <see cref="LogPath"/> in the home, never to a pipe the test would have to drain. Every CLI verb
/// runs as its own process against this home.
/// </summary>
public sealed partial class PeerProcess : IAsyncDisposable
{
    /// <summary>How long a peer may take to come up (or go down) on two loaded cores.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private Process? _process;
    private string? _account;

    public PeerProcess(string name, string home)
    {
        Name = name;
        Home = home;
    }

    public string Name { get; }
    public string Home { get; }
    public string LogPath => Path.Combine(Home, "peer.log");
    public string ApiAddressPath => Path.Combine(Home, "api-address");
    public string Account => _account ?? throw new InvalidOperationException($"{Name} has no identity yet (call InitAsync)");

    /// <summary>The device-link port, chosen by the first start (port 0) and reused by every restart.</summary>
    public int? Port { get; private set; }
    public string LinkAddress => $"127.0.0.1:{Port ?? throw new InvalidOperationException($"{Name} has not started yet")}";
    public int Starts { get; private set; }

    /// <summary>Start with `--listen off`: no direct links in (and none out, when every peer does so).</summary>
    public bool ListenOff { get; set; }

    /// <summary>A config file laid over config/peer.hocon (`--config`).</summary>
    public string? ConfigFile { get; set; }
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>`actorsync ARGS --home HOME`.</summary>
    public Task<CliResult> RunAsync(params string[] args) => ActorSyncCli.RunAsync([.. args, "--home", Home]);

    /// <summary>`actorsync ARGS --home HOME`, which must exit 0.</summary>
    public async Task<CliResult> OkAsync(params string[] args) => (await RunAsync(args)).EnsureSuccess();

    public async Task InitAsync()
    {
        var result = (await ActorSyncCli.RunAsync(["init", "--home", Home, "--name", Name])).EnsureSuccess();
        _account = result.LastLine;
    }

    /// <summary>
    /// Starts `actorsync peer` (port 0 the first time, the same port afterwards) and waits, with a
    /// bounded poll, until it has written its API address and printed its listen address. A restart
    /// whose port is briefly held by someone else is retried until <see cref="StartTimeout"/>.
    /// </summary>
    public async Task StartAsync()
    {
        if (IsRunning) throw new InvalidOperationException($"{Name}'s peer is already running");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // A killed peer leaves its api-address behind: only a fresh one means "up".
            File.Delete(ApiAddressPath);
            var logStart = File.Exists(LogPath) ? new FileInfo(LogPath).Length : 0;
            List<string> args =
            [
                "-c", "log=$1; shift; exec \"$@\" </dev/null >>\"$log\" 2>&1", "sh", LogPath,
                ActorSyncCli.Dotnet, ActorSyncCli.Dll, "peer", "--home", Home,
                "--listen", ListenOff ? "off" : $"127.0.0.1:{(Port ?? 0).ToString(CultureInfo.InvariantCulture)}", "--api", "127.0.0.1:0",
            ];
            if (ConfigFile is not null) args.AddRange(["--config", ConfigFile]);
            var info = ActorSyncCli.StartInfo("/bin/sh", args);
            _process = Process.Start(info) ?? throw new InvalidOperationException("could not start the peer");
            Starts++;
            ProcessRegistry.Add(_process);

            while (true)
            {
                var log = ReadLog(logStart);
                var listen = ListenLine().Match(log);
                if (ListenOff && log.Contains("\nlisten: off", StringComparison.Ordinal) && log.Contains("\napi: ", StringComparison.Ordinal)
                    && File.Exists(ApiAddressPath))
                    return;
                if (!ListenOff && listen.Success && log.Contains("\napi: ", StringComparison.Ordinal) && File.Exists(ApiAddressPath))
                {
                    var port = int.Parse(listen.Groups[1].Value, CultureInfo.InvariantCulture);
                    if (Port is { } expected && port != expected)
                        throw new InvalidOperationException($"{Name}'s peer restarted on port {port}, not on {expected}");
                    Port = port;
                    return;
                }
                if (_process.HasExited)
                {
                    ProcessRegistry.Remove(_process);
                    var portTaken = log.Contains("address already in use", StringComparison.OrdinalIgnoreCase);
                    if (portTaken && Port is not null && clock.Elapsed < StartTimeout) break; // retry on the same port
                    throw new InvalidOperationException($"{Name}'s peer exited with {_process.ExitCode} while starting:\n{Tail(log, 40)}");
                }
                if (clock.Elapsed > StartTimeout)
                {
                    throw new TimeoutException($"{Name}'s peer did not come up within {StartTimeout.TotalSeconds} s:\n{Tail(log, 40)}");
                }
                await Task.Delay(100);
            }
            await Task.Delay(250);
        }
    }

    /// <summary>SIGKILL (`kill -9`): no clean stop, the journal is whatever was durable.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"{Name}'s peer was never started");
        if (!process.HasExited) process.Kill(entireProcessTree: false);
        using var bound = new CancellationTokenSource(StartTimeout);
        await process.WaitForExitAsync(bound.Token);
        ProcessRegistry.Remove(process);
    }

    /// <summary>SIGTERM (`kill -TERM PID`): the peer stops cleanly; returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"{Name}'s peer was never started");
        if (process.HasExited) throw new InvalidOperationException($"{Name}'s peer is not running");
        using (var kill = Process.Start(ActorSyncCli.StartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))!)
        {
            await kill.WaitForExitAsync();
            if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -TERM {process.Id} failed with {kill.ExitCode}");
        }
        using var bound = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name}'s peer did not stop within {StartTimeout.TotalSeconds} s of SIGTERM:\n{LogTail(40)}");
        }
        ProcessRegistry.Remove(process);
        return process.ExitCode;
    }

    public string ReadLog(long from = 0)
    {
        if (!File.Exists(LogPath)) return "";
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (from > stream.Length) from = 0;
        stream.Seek(from, SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return "\n" + reader.ReadToEnd();
    }

    public string LogTail(int lines) => Tail(ReadLog(), lines);

    public string Describe() =>
        $"--- {Name} (home {Home}, {(IsRunning ? $"running as pid {Pid}" : "not running")}, port {Port?.ToString(CultureInfo.InvariantCulture) ?? "-"}, {Starts} start(s)); last log lines:\n{LogTail(30)}";

    public async ValueTask DisposeAsync()
    {
        if (_process is not { } process) return;
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await process.WaitForExitAsync(bound.Token);
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

    private static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    [GeneratedRegex(@"\nlisten: 127\.0\.0\.1:(\d+)\s*\n")]
    private static partial Regex ListenLine();
}

/// <summary>Every peer process still running, killed when the test host exits, so no run leaves peers behind.</summary>
internal static class ProcessRegistry
{
    private static readonly ConcurrentDictionary<Process, bool> Running = new();

    static ProcessRegistry()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var process in Running.Keys)
            {
                try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
            }
        };
    }

    public static void Add(Process process) => Running[process] = true;

    public static void Remove(Process process) => Running.TryRemove(process, out _);
}

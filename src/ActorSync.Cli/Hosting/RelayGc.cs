using System.Runtime.InteropServices;
using System.Text;

namespace ActorSync.Cli.Hosting;

/// <summary>
/// A relay node (<c>actorsync relay</c>) runs with GC settings of its own, which the executable's
/// runtimeconfig (peers' settings) cannot give one verb alone:
/// <list type="bullet">
/// <item>A gen-0 allocation budget of <see cref="Budget"/>. By default the GC collects gen 0 after
/// a few MiB: a relay taking envelopes collected hundreds of times a second, and every envelope it
/// had just buffered survived each collection (measured with `bench relay`, three interleaved
/// pairs: 19.1-22.2k envelopes/s and 665-810 MiB holding 1,000,000, against 27.6-29.7k/s and
/// 644-649 MiB with 64 MiB). Peers are left alone: the whole bench with the budget on every process
/// showed no gain for them and a peer holding 1,000 workspaces at 226 MiB instead of 182.</item>
/// <item>The runtime's default large-object threshold (85,000 bytes), where the runtimeconfig
/// raises it for peers (ActorSync.Cli.csproj): with the raised one a relay took 27.5-28.3k
/// envelopes/s and held 1,000,000 in 705-720 MiB, against 28.8-29.9k/s and 660-663 MiB.</item>
/// </list>
/// Both are read before any managed code runs (DOTNET_GCgen0size from the environment only), so
/// the relay executes itself again, once, with those it lacks set: same process id, arguments,
/// open standard streams, nothing started yet. An operator's own setting of either wins
/// (DOTNET_GCgen0size=0 restores the runtime's default budget); with both given there is no exec.
/// </summary>
internal static class RelayGc
{
    public const string Variable = "DOTNET_GCgen0size";

    /// <summary>64 MiB, in the hexadecimal the runtime reads GC settings in.</summary>
    public const string Budget = "4000000";

    public const string ThresholdVariable = "DOTNET_GCLOHThreshold";

    /// <summary>85,000 bytes (the runtime's own default), in hexadecimal.</summary>
    public const string DefaultThreshold = "14C08";

    /// <summary>The verb that gets the settings.</summary>
    private const string Relay = "relay";

    private static readonly byte[][] Settings = [Encoding.ASCII.GetBytes(Variable + "="), Encoding.ASCII.GetBytes("COMPlus_GCgen0size=")];

    private static readonly byte[][] ThresholdSettings =
        [Encoding.ASCII.GetBytes(ThresholdVariable + "="), Encoding.ASCII.GetBytes("COMPlus_GCLOHThreshold=")];

    /// <summary>
    /// Whether to execute again: the relay, lacking either setting in its environment (in either
    /// spelling; names compared as the runtime reads them, case-sensitively). The executed process
    /// has both, so it does not execute again.
    /// </summary>
    public static bool Wanted(IReadOnlyList<string> args, IReadOnlyList<byte[]> environment) =>
        args.Count > 0 && args[0] == Relay && (!Has(environment, Settings) || !Has(environment, ThresholdSettings));

    /// <summary>The environment the relay executes itself with: the one it has, plus each setting the operator did not give.</summary>
    public static List<byte[]> WithSettings(IReadOnlyList<byte[]> environment)
    {
        var with = new List<byte[]>(environment);
        if (!Has(environment, Settings)) with.Add(Encoding.ASCII.GetBytes(Variable + "=" + Budget));
        if (!Has(environment, ThresholdSettings)) with.Add(Encoding.ASCII.GetBytes(ThresholdVariable + "=" + DefaultThreshold));
        return with;
    }

    private static bool Has(IReadOnlyList<byte[]> environment, byte[][] spellings) => environment.Any(e => spellings.Any(s => e.AsSpan().StartsWith(s)));

    /// <summary>The entries of a NUL-separated block (/proc/self/cmdline, /proc/self/environ), bytes as they are.</summary>
    public static List<byte[]> Entries(ReadOnlySpan<byte> block)
    {
        var entries = new List<byte[]>();
        while (!block.IsEmpty)
        {
            var end = block.IndexOf((byte)0);
            if (end < 0) end = block.Length;
            entries.Add(block[..end].ToArray());
            block = block[Math.Min(end + 1, block.Length)..];
        }
        return entries;
    }

    /// <summary>
    /// Executes this process again with the settings when <see cref="Wanted"/>; returns only if it
    /// does not (or cannot). The arguments and environment are the bytes the process was started
    /// with (not decoded and encoded again), and the image is /proc/self/exe itself: the file this
    /// process runs, even if its path was replaced meanwhile. Side effects of executing an already
    /// started runtime, none of which matters to a relay: a SIGTERM in the few milliseconds before
    /// the exec is taken by the first runtime and lost (a supervisor's stop at that very moment
    /// must be repeated), and a startup hook or profiler would run twice.
    /// </summary>
    public static void Apply(string[] args)
    {
        if (!OperatingSystem.IsLinux() || args.Length == 0 || args[0] != Relay) return;
        List<byte[]> argv, environment;
        try
        {
            argv = Entries(File.ReadAllBytes("/proc/self/cmdline"));
            environment = Entries(File.ReadAllBytes("/proc/self/environ"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        if (argv.Count == 0 || !Wanted(args, environment)) return;
        ReleaseDiagnosticsPort();
        var failure = Execute("/proc/self/exe", argv, WithSettings(environment));
        // Still here: the runtime's default budget and the peers' threshold (slower, not wrong).
        Console.Error.WriteLine($"actorsync: could not set {Variable} and {ThresholdVariable} ({failure}); running with the default GC budget");
    }

    /// <summary>
    /// The runtime's diagnostics socket (dotnet-trace, dotnet-counters) is named after the process
    /// id and start time, which the exec keeps: the runtime that follows could not bind the name
    /// while this one's file is there (measured: nothing listened, tools were refused).
    /// </summary>
    private static void ReleaseDiagnosticsPort()
    {
        try
        {
            foreach (var socket in Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket"))
                File.Delete(socket);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left as it is: the relay runs, only without its diagnostics port.
        }
    }

    /// <summary>execve(2) with NUL-terminated native copies; returns why it failed (it does not return when it works).</summary>
    private static string Execute(string image, IReadOnlyList<byte[]> argv, IReadOnlyList<byte[]> environment)
    {
        var allocated = new List<IntPtr>(argv.Count + environment.Count + 1);
        IntPtr Native(byte[] bytes)
        {
            var p = Marshal.AllocHGlobal(bytes.Length + 1);
            allocated.Add(p);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            Marshal.WriteByte(p, bytes.Length, 0);
            return p;
        }
        try
        {
            var path = Native(Encoding.UTF8.GetBytes(image));
            IntPtr[] args = [.. argv.Select(Native), IntPtr.Zero];
            IntPtr[] env = [.. environment.Select(Native), IntPtr.Zero];
            execve(path, args, env);
            return $"execve failed, errno {Marshal.GetLastPInvokeError()}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or MarshalDirectiveException)
        {
            return e.GetType().Name;
        }
        finally
        {
            foreach (var p in allocated) Marshal.FreeHGlobal(p);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(IntPtr path, IntPtr[] argv, IntPtr[] envp);
}

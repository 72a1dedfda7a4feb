using System.Runtime.InteropServices;
using System.Text;

namespace ActorSync.Cli.Hosting;

/// <summary>
/// A relay node (<c>actorsync relay</c>) runs with a gen-0 allocation budget of <see cref="Budget"/>.
/// By default the GC collects gen 0 after a few MiB: a relay taking envelopes collected hundreds of
/// times a second, and every envelope it had just buffered survived each collection (measured with
/// `bench relay`, three interleaved pairs: 19.1-22.2k envelopes/s and 665-810 MiB holding 1,000,000,
/// against 27.6-29.7k/s and 644-649 MiB with 64 MiB). Peers are left alone: the whole bench with
/// the budget on every process showed no gain for them and a peer holding 1,000 workspaces at 226
/// MiB instead of 182. The budget is read from the environment only (DOTNET_GCgen0size has no
/// runtimeconfig.json name), before any managed code runs; so the relay executes itself again,
/// once, with it set: same process id, arguments, open standard streams, nothing started yet. An
/// operator's own setting wins (DOTNET_GCgen0size=0 restores the runtime's default).
/// </summary>
internal static class Gen0Budget
{
    public const string Variable = "DOTNET_GCgen0size";

    /// <summary>64 MiB, in the hexadecimal the runtime reads GC settings in.</summary>
    public const string Budget = "4000000";

    /// <summary>The verb that gets the budget.</summary>
    private const string Relay = "relay";

    /// <summary>
    /// The environment to execute again with, or null to run on: not the relay, or the budget (or
    /// its legacy COMPlus_ spelling) is set already.
    /// </summary>
    public static IReadOnlyList<string>? EnvironmentFor(IReadOnlyList<string> args, IReadOnlyList<string> environment)
    {
        if (args.Count == 0 || args[0] != Relay) return null;
        if (environment.Any(e => e.StartsWith(Variable + "=", StringComparison.OrdinalIgnoreCase)
                || e.StartsWith("COMPlus_GCgen0size=", StringComparison.OrdinalIgnoreCase)))
            return null;
        return [.. environment, Variable + "=" + Budget];
    }

    /// <summary>Executes this process again with the budget when <see cref="EnvironmentFor"/> says so; returns only if it does not (or cannot).</summary>
    public static void Apply(string[] args)
    {
        if (!OperatingSystem.IsLinux()) return;
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").ToList();
        if (EnvironmentFor(args, environment) is not { } withBudget) return;
        // The command line exactly as this process got it (dotnet host and dll, or the apphost):
        // each argument ends with a NUL, so only the last one is dropped (an empty last argument stays).
        string[] argv;
        string? image;
        try
        {
            var line = File.ReadAllText("/proc/self/cmdline", Encoding.UTF8);
            argv = (line.EndsWith('\0') ? line[..^1] : line).Split('\0');
            image = File.ResolveLinkTarget("/proc/self/exe", returnFinalTarget: true)?.FullName ?? Environment.ProcessPath;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        if (image is null || argv.Length == 0 || argv[0].Length == 0) return;
        var failure = Execute(image, argv, withBudget);
        // Still here: the runtime's default budget (slower, not wrong).
        Console.Error.WriteLine($"actorsync: could not set {Variable} ({failure}); running with the default GC budget");
    }

    /// <summary>execve(2) with UTF-8, null-terminated copies of the strings; returns why it failed (it does not return when it works).</summary>
    private static string Execute(string image, IReadOnlyList<string> argv, IReadOnlyList<string> environment)
    {
        var allocated = new List<IntPtr>(argv.Count + environment.Count + 1);
        IntPtr Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            allocated.Add(p);
            return p;
        }
        try
        {
            var path = Utf8(image);
            IntPtr[] args = [.. argv.Select(Utf8), IntPtr.Zero];
            IntPtr[] env = [.. environment.Select(Utf8), IntPtr.Zero];
            execve(path, args, env);
            return $"execve failed, errno {Marshal.GetLastPInvokeError()}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or MarshalDirectiveException)
        {
            return e.GetType().Name;
        }
        finally
        {
            foreach (var p in allocated) Marshal.FreeCoTaskMem(p);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(IntPtr path, IntPtr[] argv, IntPtr[] envp);
}

using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ActorSync.EndToEnd.Tests.Support;
using Xunit;

namespace ActorSync.EndToEnd.Tests;

/// <summary>
/// A relay started the ordinary way (no GC setting in its environment) executes itself again with
/// its GC settings: the same process (the pid a supervisor knows, its log, its command line) runs
/// on with DOTNET_GCgen0size and the default large-object threshold set, and works (its
/// diagnostics port too); a peer runs as started, with the runtimeconfig's threshold.
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class RelayGcSpecs
{
    private const string Budget = "DOTNET_GCgen0size=4000000";

    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task A_relay_should_run_with_its_gc_settings_in_the_process_that_was_started_and_a_peer_without()
    {
        await using var cluster = new PeerCluster();
        await using var relay = new RelayProcess("relay", Path.Combine(cluster.Root, "relay"), Path.Combine(cluster.Root, "relay.log"));
        await relay.StartAsync("sqlite:" + Path.Combine(cluster.Root, "relay", "relay.db"));
        var ann = await cluster.InitAsync("Ann");
        await ann.StartAsync();

        var relayEnvironment = Environment(relay.Pid, "relay");
        Assert.Single(relayEnvironment, v => v.StartsWith("DOTNET_GCgen0size=", StringComparison.Ordinal));
        Assert.Contains(Budget, relayEnvironment);
        Assert.Contains("DOTNET_GCLOHThreshold=14C08", relayEnvironment);
        var peerEnvironment = Environment(ann.Pid, "peer");
        Assert.DoesNotContain(peerEnvironment, v => v.StartsWith("DOTNET_GCgen0size=", StringComparison.Ordinal));
        Assert.DoesNotContain(peerEnvironment, v => v.StartsWith("DOTNET_GCLOHThreshold=", StringComparison.Ordinal));
        // The node started once (the exec comes before anything is printed) and serves from the process started.
        Assert.Single(Regex.Matches(relay.ReadLog(), @"\nrelay address: "));
        Assert.True(relay.IsRunning);

        // Its diagnostics port (dotnet-trace, dotnet-counters) listens: the name the exec kept was freed for it.
        var port = Assert.Single(Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{relay.Pid}-*-socket"));
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(port));
        Assert.True(client.Connected);
    }

    /// <summary>The environment of the running process <paramref name="pid"/>, which must be the <paramref name="verb"/> it was started as.</summary>
    private static string[] Environment(int? pid, string verb)
    {
        Assert.True(pid is not null, $"the {verb} is not running");
        var dir = "/proc/" + pid!.Value.ToString(CultureInfo.InvariantCulture);
        Assert.Contains(verb, File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0'));
        return File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
    }
}

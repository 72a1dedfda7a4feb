using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Akka.Remote.Transport;
using ActorSync.Relay.Hosting;
using ActorSync.Simulation.Network;

namespace ActorSync.Simulation.Running;

/// <summary>
/// The scenario's relay: one to three real <see cref="RelayHost"/> nodes (Akka.Cluster over
/// Akka.Remote on 127.0.0.1, gRPC device front ends on 127.0.0.1) in this process. Peers name one
/// node each (<see cref="AddressFor"/>). One node keeps the single-node layout (home and SQLite
/// journal in root/relay). Several nodes share one SQLite journal file (root/relay/shared): all
/// nodes live in this process, Microsoft.Data.Sqlite waits for the file's one writer (busy timeout
/// 30 s) and sharding keeps one writer per mailbox, so no server is needed, while a crashed or
/// downed node's mailboxes recover on a survivor as they would from PostgreSQL.
/// Between nodes, Akka.Remote runs through the throttler adapter (trttl), so a node can be cut
/// from the others with <see cref="Blackhole"/> and healed with <see cref="Unthrottled"/>.
/// A node the split brain resolver downed is restarted from its home once it is no longer cut off,
/// as `actorsync relay`'s supervisor would after its exit code 4.
/// </summary>
internal sealed class SimRelay : IAsyncDisposable
{
    private readonly Node[] _nodes;
    private readonly SimulatedNetwork _network;
    private readonly string? _journal;
    private readonly HashSet<(int, int)> _cut = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task? _supervisor;
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly List<string> _story = [];

    /// <summary>What happened to the relay nodes (cuts, heals, crashes, downings, restarts), each stamped with seconds since the relay started.</summary>
    public IReadOnlyList<string> Story
    {
        get { lock (_story) return [.. _story]; }
    }

    private void Log(string what)
    {
        var line = $"{_clock.Elapsed.TotalSeconds:0.0}s {what}";
        lock (_story) _story.Add(line);
        _network.Note("relay", what);
    }

    public SimRelay(string root, string akkaLogLevel, SimulatedNetwork network, int nodes = 1)
    {
        _network = network;
        HomePath = Path.Combine(root, "relay");
        Directory.CreateDirectory(HomePath);
        var cluster = nodes > 1;
        if (cluster)
        {
            Directory.CreateDirectory(Path.Combine(HomePath, "shared"));
            _journal = "sqlite:" + Path.Combine(HomePath, "shared", "relay-journal.db");
        }
        var config = Path.Combine(root, "relay.hocon");
        // Only the cluster runs the throttler: with one node it would change nothing but the address
        // scheme. A store lost between cut nodes is answered "retry" after 5 s instead of 30 s, so that
        // peers stopping at the end of a run do not wait out their 20 s flush for it.
        File.WriteAllText(config, $"""
            akka.loglevel = {akkaLogLevel}
            akka.stdout-loglevel = OFF
            {(cluster ? "akka.remote.dot-netty.tcp.applied-adapters = [trttl]" : "")}
            {(cluster ? "actorsync.relay.front.store-timeout = 5s" : "")}
            """);
        _nodes = Enumerable.Range(0, nodes)
            .Select(i => new Node(i, cluster ? Path.Combine(HomePath, "node" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)) : HomePath, config))
            .ToArray();
    }

    /// <summary>The folder holding every node's home and the shared journal (searched by the at-rest check).</summary>
    public string HomePath { get; }

    public int Count => _nodes.Length;

    /// <summary>Every node runs (none crashed and not yet restarted).</summary>
    public bool Up => _nodes.All(n => n.Host is not null);

    public bool IsUp(int node) => _nodes[node].Host is not null;

    /// <summary>The address (pin included) of the node peer <paramref name="peer"/> names: peers spread over the nodes in turn.</summary>
    public string AddressFor(int peer) => _nodes[peer % _nodes.Length].Address;

    public string Name(int node) => _nodes[node].Name;

    /// <summary>Starts every node: the first joins itself, the others join it; returns once all are Up members.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await StartNodeAsync(_nodes[0], ct).ConfigureAwait(false);
        await Task.WhenAll(_nodes.Skip(1).Select(n => StartNodeAsync(n, ct))).ConfigureAwait(false);
        if (_nodes.Length > 1)
        {
            var problem = await WaitClusterAsync(TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
            if (problem is not null) throw new InvalidOperationException("the relay cluster did not form: " + problem);
            _supervisor = Task.Run(() => SuperviseAsync(_stop.Token), CancellationToken.None);
        }
    }

    /// <summary>Crash: a single node is disposed (a clean stop, as before); a cluster node dies as a process would (<see cref="RelayHost.CrashAsync"/>: connections cut, no leaving).</summary>
    public async Task CrashAsync(int index)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var node = _nodes[index];
            if (node.Host is not { } host) return;
            node.Host = null;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            if (_nodes.Length > 1) await host.CrashAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            else await DisposeQuietly(host).ConfigureAwait(false);
            Log($"{node.Name} crashed ({watch.Elapsed.TotalSeconds:0.0} s to go down)");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Starts a crashed node again from its home, on its ports.</summary>
    public async Task RestartAsync(int index, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_nodes[index].Host is not null) return; // the supervisor got there first
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await StartNodeAsync(_nodes[index], ct).ConfigureAwait(false);
            Log($"{_nodes[index].Name} restarted after its crash ({watch.Elapsed.TotalSeconds:0.0} s to start)");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Cuts node <paramref name="index"/> from every other node, both ways, on both sides (Blackhole on the throttler).</summary>
    public async Task PartitionAsync(int index)
    {
        Log(_nodes[index].Name + " cut from the other nodes (Blackhole)");
        foreach (var other in _nodes.Where(n => n.Index != index))
        {
            lock (_cut) _cut.Add(Pair(index, other.Index));
            await ThrottleAsync(_nodes[index], other, Blackhole.Instance).ConfigureAwait(false);
            await ThrottleAsync(other, _nodes[index], Blackhole.Instance).ConfigureAwait(false);
        }
    }

    /// <summary>Heals node <paramref name="index"/>'s cuts (Unthrottled); if it was downed meanwhile, the supervisor restarts it.</summary>
    public async Task HealAsync(int index)
    {
        var logged = IsCut(index);
        foreach (var other in _nodes.Where(n => n.Index != index))
        {
            await ThrottleAsync(_nodes[index], other, Unthrottled.Instance).ConfigureAwait(false);
            await ThrottleAsync(other, _nodes[index], Unthrottled.Instance).ConfigureAwait(false);
            lock (_cut) _cut.Remove(Pair(index, other.Index));
        }
        if (logged) Log(_nodes[index].Name + " healed (Unthrottled)");
    }

    /// <summary>The final heal: every cut healed, every node running; then waits until all are Up members that see each other.</summary>
    public async Task<string?> HealAllAsync(TimeSpan patience, CancellationToken ct)
    {
        for (var i = 0; i < _nodes.Length; i++) await HealAsync(i).ConfigureAwait(false);
        for (var i = 0; i < _nodes.Length; i++)
            if (_nodes[i].Host is null) await RestartAsync(i, ct).ConfigureAwait(false);
        return _nodes.Length > 1 ? await WaitClusterAsync(patience, ct).ConfigureAwait(false) : null;
    }

    private static (int, int) Pair(int a, int b) => a < b ? (a, b) : (b, a);

    private bool IsCut(int index)
    {
        lock (_cut) return _cut.Any(p => p.Item1 == index || p.Item2 == index);
    }

    private async Task ThrottleAsync(Node from, Node to, ThrottleMode mode)
    {
        if (from.Host is not { } host || to.ClusterAddress is not { } target) return;
        try
        {
            // The cluster provider is a RemoteActorRefProvider (RARP, which the TestConductor uses, is internal in 1.5).
            var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)host.System).Provider).Transport;
            await transport.ManagementCommand(new SetThrottle(target, ThrottleTransportAdapter.Direction.Both, mode))
                .WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            _network.Note("relay", $"{from.Name} could not set {mode.GetType().Name} towards {to.Name}: {e.Message}");
        }
    }

    /// <summary>
    /// `actorsync relay` exits with code 4 when the cluster removed its node, and a supervisor starts
    /// it again: here, a removed node is restarted from its home once it is not cut off (a node
    /// restarted while still cut off would only fail to join).
    /// </summary>
    private async Task SuperviseAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(500, ct).ConfigureAwait(false);
                foreach (var node in _nodes.Where(n => n.Removed && n.Host is not null && !IsCut(n.Index)))
                {
                    await _gate.WaitAsync(ct).ConfigureAwait(false);
                    try
                    {
                        if (node.Host is not { } host || !node.Removed) continue;
                        var watch = System.Diagnostics.Stopwatch.StartNew();
                        node.Host = null;
                        // It is out of the cluster already: nothing to hand over, so it goes down as in a crash.
                        await host.CrashAsync().WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
                        await StartNodeAsync(node, ct).ConfigureAwait(false);
                        Restarts++;
                        Log($"{node.Name} restarted from its home after the cluster removed it, as a supervisor would ({watch.Elapsed.TotalSeconds:0.0} s)");
                    }
                    finally
                    {
                        _gate.Release();
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the supervisor keeps going; the final heal reports a cluster that did not re-form
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log($"supervisor: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>Nodes the supervisor restarted after the split brain resolver downed them.</summary>
    public int Restarts { get; private set; }

    /// <summary>Null once every node runs, is Up and sees every other node Up and reachable; else what is not.</summary>
    private async Task<string?> WaitClusterAsync(TimeSpan patience, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            var problem = ClusterProblem();
            if (problem is null || DateTime.UtcNow > deadline) return problem;
            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }

    private string? ClusterProblem()
    {
        var expected = _nodes.Select(n => n.ClusterAddress!).ToHashSet();
        foreach (var node in _nodes)
        {
            if (node.Host is not { } host) return node.Name + " is down";
            if (node.Removed) return node.Name + " was removed from the cluster";
            var cluster = Cluster.Get(host.System);
            var state = cluster.State;
            if (cluster.SelfMember.Status != MemberStatus.Up) return $"{node.Name} is {cluster.SelfMember.Status}";
            if (state.Unreachable.Count > 0) return $"{node.Name} sees {state.Unreachable.Count} unreachable";
            var up = state.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address).ToHashSet();
            if (!up.SetEquals(expected)) return $"{node.Name} sees {up.Count} of {expected.Count} nodes Up";
        }
        return null;
    }

    private async Task StartNodeAsync(Node node, CancellationToken ct)
    {
        if (node.Host is not null) return;
        // The first start of the first node joins itself; every other start joins the nodes that run.
        var seeds = _nodes.Length == 1 || (node.Index == 0 && node.ClusterAddress is null)
            ? null
            : _nodes.Where(n => n != node && n.ClusterAddress is not null && n.Host is not null).Select(n => n.ClusterAddress!.ToString()).ToList();
        var options = new RelayOptions(node.Home, Port: node.Port, ClusterPort: node.ClusterPort, Seeds: seeds, Journal: _journal, ConfigFile: node.Config);
        var host = await RelayHost.StartAsync(options, ct: ct).ConfigureAwait(false);
        var cluster = Cluster.Get(host.System);
        node.Removed = false;
        cluster.RegisterOnMemberRemoved(() =>
        {
            if (!ReferenceEquals(node.Host, host)) return;
            node.Removed = true;
            Log(node.Name + " removed from the cluster (downed by the split brain resolver)");
        });
        node.Port = host.Address.Port;
        node.ClusterAddress = cluster.SelfAddress;
        node.ClusterPort = cluster.SelfAddress.Port ?? 0;
        node.Address = host.Address.ToString();
        node.Host = host;
        // A node is started while others keep a cut towards its address: the throttler keeps modes per
        // address, but a new incarnation's transport does not know the cuts set on its side.
        if (IsCut(node.Index))
            foreach (var other in _nodes.Where(n => n != node))
            {
                bool cut;
                lock (_cut) cut = _cut.Contains(Pair(node.Index, other.Index));
                if (cut) await ThrottleAsync(node, other, Blackhole.Instance).ConfigureAwait(false);
            }
        _network.Note("relay", $"{node.Name} at {node.Address}" + (_nodes.Length > 1 ? $", cluster {node.ClusterAddress}" : ""));
    }

    private async Task DisposeQuietly(RelayHost host)
    {
        try
        {
            await host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a node that does not stop cleanly is left to the process; the run goes on
        catch (Exception e)
#pragma warning restore CA1031
        {
            _network.Note("relay", $"a relay node did not stop cleanly: {e.GetType().Name}: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_supervisor is not null) await _supervisor.ConfigureAwait(false);
        // The run is over and every accepted envelope is durable: cluster nodes go down as in a crash
        // (a graceful leave, one node at a time, costs seconds per node and checks nothing more).
        foreach (var node in _nodes.Reverse())
        {
            if (node.Host is not { } host) continue;
            node.Host = null;
            if (_nodes.Length == 1)
            {
                await DisposeQuietly(host).ConfigureAwait(false);
                continue;
            }
            try
            {
                await host.CrashAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // best effort at the end of a run
            catch (Exception e)
#pragma warning restore CA1031
            {
                _network.Note("relay", $"{node.Name} did not stop: {e.GetType().Name}: {e.Message}");
            }
        }
        _stop.Dispose();
        _gate.Dispose();
    }

    /// <summary>One relay node: its home, its ports (kept across restarts) and the host while it runs.</summary>
    private sealed class Node(int index, string home, string config)
    {
        public int Index { get; } = index;
        public string Name { get; } = "relay" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        public string Home { get; } = home;
        public string Config { get; } = config;
        public int Port { get; set; }
        public int ClusterPort { get; set; }
        public Address? ClusterAddress { get; set; }
        public string Address { get; set; } = "";
        public volatile RelayHost? Host;
        public volatile bool Removed;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Hosting;
using ActorSync.Relay.Mailboxes;
using AkkaCluster = Akka.Cluster.Cluster;

namespace ActorSync.Relay.Tests.Clustering;

/// <summary>One relay node of a <see cref="RelayCluster"/>.</summary>
internal sealed class RelayNode(string name, int clusterPort, RelayHost host)
{
    public string Name { get; } = name;
    public int ClusterPort { get; } = clusterPort;
    public RelayHost Host { get; } = host;
    public ActorSystem System => Host.System;
    public Address Address => AkkaCluster.Get(System).SelfAddress;
    public IActorRef Region => ClusterSharding.Get(System).ShardRegion(MailboxSharding.TypeName);

    /// <summary>Terminated without leaving (a crash, as far as the other nodes can tell).</summary>
    public bool Crashed { get; set; }

    /// <summary>Stopped by <see cref="RelayHost.DisposeAsync"/> (it left the cluster).</summary>
    public bool Stopped { get; set; }

    public override string ToString() => $"{Name} ({ClusterPort})";
}

/// <summary>
/// Real relay nodes (<see cref="RelayHost"/>: cluster, sharded mailboxes, gRPC front end) in this
/// process on 127.0.0.1 sharing one PostgreSQL journal, with the shipped config/relay.hocon and
/// config/relay.postgres.hocon. The nodes get ascending cluster ports, so node 1 has the lowest
/// address; it is the seed of all and starts first, so it is also the oldest member (the host of
/// the shard coordinator). A timeline of every node's cluster events is kept for the report.
/// </summary>
internal sealed class RelayCluster : IAsyncDisposable
{
    public const string SystemName = "actorsync-relay";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "actorsync-relay-cluster-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<string> _timeline = new();
    private readonly List<RelayNode> _nodes = [];

    private RelayCluster() { }

    public IReadOnlyList<RelayNode> Nodes => _nodes;
    public IEnumerable<RelayNode> Running => _nodes.Where(n => !n.Crashed && !n.Stopped);
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Unreachability observed while the cluster was meant to be healthy (a flapping failure detector).</summary>
    public int UnreachableEvents => _unreachable;
    private int _unreachable;

    public static async Task<RelayCluster> StartAsync(string connectionString, int size = 3)
    {
        var cluster = new RelayCluster();
        try
        {
            var ports = FreePorts(size);
            var seeds = new[] { $"akka.tcp://{SystemName}@127.0.0.1:{ports[0]}" };
            // The seed first, so that it is the oldest member; the others join it together.
            await cluster.StartNodeAsync(1, ports[0], seeds, connectionString);
            await Task.WhenAll(Enumerable.Range(2, size - 1).Select(i => cluster.StartNodeAsync(i, ports[i - 1], seeds, connectionString)));
            cluster.Note("all nodes started");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartNodeAsync(int index, int port, string[] seeds, string connectionString)
    {
        var name = "node" + index;
        var host = await RelayHost.StartAsync(new RelayOptions(
            Path.Combine(_root, name), Port: 0, ClusterPort: port, Seeds: seeds, Journal: "postgres:" + connectionString,
            // One shared node certificate: the cluster runs over mutual TLS, as a production cluster should.
            ClusterTls: Path.Combine(_root, "cluster-tls")));
        var node = new RelayNode(name, port, host);
        lock (_nodes)
        {
            _nodes.Add(node);
            _nodes.Sort((a, b) => a.ClusterPort.CompareTo(b.ClusterPort));
        }
        var recorder = host.System.ActorOf(Props.Create(() => new ClusterEventRecorder(name, this)), "spec-cluster-events");
        AkkaCluster.Get(host.System).Subscribe(recorder, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Note($"{node} started");
    }

    public RelayNode this[int number] => _nodes[number - 1];

    /// <summary>A line of the timeline, stamped with the time since the cluster started.</summary>
    public void Note(string what) => _timeline.Enqueue($"{_clock.Elapsed.TotalSeconds,7:F2}s  {what}");

    public string Timeline => string.Join(Environment.NewLine, _timeline);

    internal void Record(string node, object clusterEvent)
    {
        if (clusterEvent is ClusterEvent.UnreachableMember) Interlocked.Increment(ref _unreachable);
        Note($"{node}: {Describe(clusterEvent)}");
    }

    private string Describe(object clusterEvent) => clusterEvent switch
    {
        ClusterEvent.MemberStatusChange change => $"{change.GetType().Name} {NameOf(change.Member.Address)} ({change.Member.Status})",
        ClusterEvent.ReachabilityEvent reach => $"{reach.GetType().Name} {NameOf(reach.Member.Address)}",
        _ => clusterEvent.GetType().Name,
    };

    private string NameOf(Address address) =>
        _nodes.ToArray().FirstOrDefault(n => n.ClusterPort == address.Port)?.Name ?? address.ToString();

    /// <summary>
    /// Waits until every running node sees exactly the running nodes as members, all Up and
    /// reachable: the crashed and stopped ones must have been removed (by the split brain resolver,
    /// for a crash). Returns how long it took.
    /// </summary>
    public async Task<TimeSpan> WaitForMembersUpAsync(TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        var expected = Running.Select(n => n.ClusterPort).Order().ToArray();
        await ActorSync.Tests.Shared.Poll.Until(() => Task.FromResult(Running.All(n => SeesExactly(n, expected))), what, timeout,
            () => string.Join(Environment.NewLine, Running.Select(n => $"  {n}: {View(n)}")) + Environment.NewLine + Timeline);
        Note($"{what}: {watch.Elapsed.TotalSeconds:F1}s");
        return watch.Elapsed;
    }

    private static bool SeesExactly(RelayNode node, int[] ports)
    {
        var cluster = AkkaCluster.Get(node.System);
        var state = cluster.State;
        return cluster.SelfMember.Status == MemberStatus.Up
            && state.Unreachable.Count == 0
            && state.Members.All(m => m.Status == MemberStatus.Up)
            && state.Members.Select(m => m.Address.Port ?? 0).Order().SequenceEqual(ports);
    }

    private static string View(RelayNode node)
    {
        var state = AkkaCluster.Get(node.System).State;
        return string.Join(", ", state.Members.Select(m => $"{m.Address.Port}:{m.Status}"))
            + (state.Unreachable.Count > 0 ? " unreachable: " + string.Join(", ", state.Unreachable.Select(m => m.Address.Port)) : "");
    }

    /// <summary>Which mailboxes (entity ids) a node holds right now.</summary>
    public static async Task<IReadOnlySet<string>> MailboxesOnAsync(RelayNode node)
    {
        var state = await node.Region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(30));
        return state.Shards.SelectMany(s => s.EntityIds).ToHashSet();
    }

    /// <summary>
    /// Kills a node the way a crash looks to the others: its ActorSystem terminates without leaving
    /// the cluster (coordinated shutdown does not run on terminate: config/relay.hocon), so the
    /// survivors only see its heartbeats stop and their split brain resolver must down it.
    /// </summary>
    public async Task CrashAsync(RelayNode node)
    {
        Note($"{node} crashes");
        node.Crashed = true;
        await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        Note($"{node} terminated");
    }

    /// <summary>A node that leaves the cluster cleanly (coordinated shutdown: shards handed off).</summary>
    public async Task StopAsync(RelayNode node)
    {
        Note($"{node} leaves");
        node.Stopped = true;
        await node.Host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        Note($"{node} left");
    }

    /// <summary>
    /// Stores an envelope through <paramref name="region"/> as a device's client does: asks, and
    /// asks again (same message id) until the mailbox answers, as a store sent towards a node that
    /// just died is dropped without an answer. The mailbox deduplicates by message id.
    /// </summary>
    public static async Task<MailboxReply> StoreAsync(IActorRef region, MailboxStore store, TimeSpan timeout, TimeSpan? retryAfter = null)
    {
        var deadline = Stopwatch.StartNew();
        var attempt = retryAfter ?? timeout;
        while (true)
        {
            try
            {
                return await region.Ask<MailboxReply>(store, attempt);
            }
            catch (AskTimeoutException) when (deadline.Elapsed + attempt <= timeout)
            {
                // no answer yet: the shard is moving; send it again
            }
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            foreach (var l in listeners) l.Start();
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).Order().ToArray();
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }

    public async ValueTask DisposeAsync()
    {
        RelayNode[] nodes;
        lock (_nodes) nodes = [.. _nodes];
        // One at a time, youngest first: nodes leaving all at once wait out their exiting phase
        // (10 s) for a leader that left too. Crashed nodes still have their device front end and
        // home open: stopping them runs their coordinated shutdown on a terminated system.
        foreach (var n in nodes.Where(n => !n.Stopped).Reverse())
        {
            var watch = Stopwatch.StartNew();
            n.Stopped = true;
            try
            {
                await n.Host.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
                Note($"{n} disposed in {watch.Elapsed.TotalSeconds:F1}s");
            }
            catch (TimeoutException)
            {
                Note($"{n} did not stop within 60s");
            }
        }
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Waits until the shard coordinator knows the mailbox region of every running node ("Up" does
    /// not mean a node's actors exist yet: shared/FACTS.md); before that, new mailboxes all land on
    /// the nodes already registered.
    /// </summary>
    public async Task<TimeSpan> WaitForRegionsAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var expected = Running.Select(n => n.Address).ToHashSet();
        var first = Running.First();
        await ActorSync.Tests.Shared.Poll.Until(async () =>
        {
            try
            {
                var stats = await first.Region.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(3)), TimeSpan.FromSeconds(5));
                return expected.IsSubsetOf(stats.Regions.Keys);
            }
            catch (AskTimeoutException)
            {
                return false; // no coordinator yet
            }
        }, "the shard coordinator to learn every node's mailbox region", timeout, () => Timeline);
        Note($"{expected.Count} mailbox regions registered: {watch.Elapsed.TotalSeconds:F1}s");
        return watch.Elapsed;
    }

    /// <summary>Writes a node's cluster events into the timeline.</summary>
    private sealed class ClusterEventRecorder : ReceiveActor
    {
        public ClusterEventRecorder(string node, RelayCluster cluster)
        {
            ReceiveAny(e => cluster.Record(node, e));
        }
    }
}

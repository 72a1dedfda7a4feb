using System.Diagnostics;
using System.Globalization;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using Google.Protobuf;

namespace ActorSync.Simulation.Network;

/// <summary>
/// The wire between simulated devices, in memory. Every frame a <see cref="SimulatedLinkTransport"/>
/// sends is encoded, passed through here, given a fate by its link's seeded <see cref="FaultStream"/>
/// (lost, duplicated, delayed, allowed to overtake) and decoded again on the far side by one
/// scheduler thread that this class owns. Pairs of devices can be partitioned and healed, and a
/// device isolated from everyone; a partition closes the links it cuts and refuses new dials.
/// What is deterministic: every fault decision, from the seed. What is not: the interleaving of
/// the peers' own threads (Akka dispatchers, SQLite writes), which no in-process simulation of
/// real actors can fix.
/// </summary>
public sealed class SimulatedNetwork : IAsyncDisposable
{
    /// <summary>Largest frame a link carries, as on the real links (8 MiB).</summary>
    public const int MaxFrameBytes = 8 * 1024 * 1024;

    private readonly object _gate = new();
    private readonly Dictionary<string, string> _addresses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Listener> _listeners = new(StringComparer.Ordinal);
    private readonly HashSet<(string, string)> _partitions = [];
    private readonly HashSet<string> _isolated = new(StringComparer.Ordinal);
    private readonly List<SimulatedLink> _links = [];
    private readonly Dictionary<(string, string), int> _linkOrdinals = [];
    private readonly PriorityQueue<Delivery, (long Due, long Serial)> _queue = new();
    private readonly TraceLog _trace;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Thread _scheduler;
    private long _serial;
    private bool _stopping;
    private LinkFaults _faults;

    public SimulatedNetwork(int seed, LinkFaults? faults = null, int traceCapacity = 400)
    {
        Seed = seed;
        _faults = (faults ?? LinkFaults.None).Validated();
        _trace = new TraceLog(traceCapacity);
        _scheduler = new Thread(RunScheduler) { IsBackground = true, Name = "sim-network" };
        _scheduler.Start();
    }

    public int Seed { get; }

    /// <summary>Counters of everything the network did; read at any time.</summary>
    public NetworkCounters Counters { get; } = new();

    /// <summary>The faults applied to frames from now on (the runner turns them off to heal).</summary>
    public LinkFaults Faults
    {
        get { lock (_gate) return _faults; }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validated();
            lock (_gate) _faults = value;
            Note("faults", $"loss={value.Loss:0.###} dup={value.Duplication:0.###} reorder={value.Reorder:0.###} delay<={value.MaxDelayMs}ms");
        }
    }

    /// <summary>The stable address of a named device ("127.0.0.1:PORT"); the same across its restarts.</summary>
    public string AddressOf(string name)
    {
        lock (_gate)
        {
            if (!_addresses.TryGetValue(name, out var address))
            {
                address = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{20_000 + _addresses.Count}");
                _addresses[name] = address;
            }
            return address;
        }
    }

    /// <summary>A transport for the device <paramref name="name"/>, whose TLS key pin is <paramref name="pin"/>.</summary>
    public SimulatedLinkTransport Transport(string name, byte[] pin, IPinDirectory pins) => new(this, name, pin, pins);

    public void Partition(string a, string b)
    {
        List<SimulatedLink> cut;
        lock (_gate)
        {
            _partitions.Add(Pair(a, b));
            cut = _links.Where(l => l.Joins(a, b)).ToList();
        }
        Note("partition", $"{a} | {b}");
        foreach (var link in cut) link.Close("partitioned", initiator: null);
    }

    public void Heal(string a, string b)
    {
        lock (_gate) _partitions.Remove(Pair(a, b));
        Note("heal", $"{a} - {b}");
    }

    /// <summary>Cuts every link of <paramref name="name"/> and refuses its dials until <see cref="Rejoin"/>.</summary>
    public void Isolate(string name)
    {
        List<SimulatedLink> cut;
        lock (_gate)
        {
            _isolated.Add(name);
            cut = _links.Where(l => l.A.Owner == name || l.B.Owner == name).ToList();
        }
        Note("isolate", name);
        foreach (var link in cut) link.Close("offline", initiator: null);
    }

    public void Rejoin(string name)
    {
        lock (_gate) _isolated.Remove(name);
        Note("rejoin", name);
    }

    public void HealAll()
    {
        lock (_gate)
        {
            _partitions.Clear();
            _isolated.Clear();
        }
        Note("heal-all", "every partition and isolation lifted");
    }

    public bool Reachable(string a, string b)
    {
        lock (_gate) return !_partitions.Contains(Pair(a, b)) && !_isolated.Contains(a) && !_isolated.Contains(b);
    }

    /// <summary>Adds a line to the trace (the runner records its workload and faults here too).</summary>
    public void Note(string kind, string detail) => _trace.Add(_clock.ElapsedMilliseconds, kind, detail);

    /// <summary>The last <paramref name="count"/> events, oldest first.</summary>
    public IReadOnlyList<string> Trace(int count = 50) => _trace.Last(count);

    internal void Listen(SimulatedLinkTransport transport, Func<ILinkConnection, Task> onInbound)
    {
        lock (_gate) _listeners[transport.Name] = new Listener(transport, onInbound);
        Note("listen", $"{transport.Name} at {AddressOf(transport.Name)}");
    }

    internal Task<ILinkConnection> DialAsync(SimulatedLinkTransport from, DeviceId device, string address, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Listener? target;
        SimulatedLink link;
        lock (_gate)
        {
            var name = _addresses.FirstOrDefault(a => a.Value == address).Key;
            target = name is null ? null : _listeners.GetValueOrDefault(name);
            if (target is null) return Refuse(from, address, "connection refused: nothing listens there");
            if (!Reachable(from.Name, target.Transport.Name)) return Refuse(from, address, "timed out: the network is partitioned");
            // The dialer accepts only the key pinned for the device it meant to reach ...
            var expected = from.Pins.PinForDevice(device);
            if (expected is null) return Refuse(from, address, $"no TLS pin known for device {device.Short}");
            if (!expected.AsSpan().SequenceEqual(target.Transport.Pin)) return Refuse(from, address, "the server's TLS key is not the one pinned for that device");
            // ... and the listener accepts only keys it knows, naming the dialer by its key, never by a claim.
            if (target.Transport.Pins.DeviceForPin(from.Pin) is not { } dialer) return Refuse(from, address, "PermissionDenied: this device's key is not known there");
            var key = Pair(from.Name, target.Transport.Name);
            var ordinal = _linkOrdinals[key] = _linkOrdinals.GetValueOrDefault(key) + 1;
            link = new SimulatedLink(this, from, target.Transport, device, dialer, ordinal);
            _links.Add(link);
        }
        Counters.Dialed();
        Note("link-up", $"{from.Name} -> {target.Transport.Name} #{link.Ordinal}");
        var accepted = target.OnInbound;
        var inbound = link.B;
        _ = Task.Run(async () =>
        {
            try
            {
                await accepted(inbound).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // the acceptor's failure costs this link only, as on the real transport
            catch (Exception e)
#pragma warning restore CA1031
            {
                link.Close("the listener failed: " + e.GetType().Name, initiator: null);
            }
        }, CancellationToken.None);
        return Task.FromResult<ILinkConnection>(link.A);
    }

    private Task<ILinkConnection> Refuse(SimulatedLinkTransport from, string address, string reason)
    {
        Counters.Refused();
        _trace.Add(_clock.ElapsedMilliseconds, "dial-refused", $"{from.Name} -> {address}: {reason}");
        return Task.FromException<ILinkConnection>(new LinkException(reason));
    }

    internal void Detach(SimulatedLinkTransport transport)
    {
        List<SimulatedLink> mine;
        lock (_gate)
        {
            if (_listeners.TryGetValue(transport.Name, out var l) && l.Transport == transport) _listeners.Remove(transport.Name);
            mine = _links.Where(k => k.A.Transport == transport || k.B.Transport == transport).ToList();
        }
        Note("detach", transport.Name);
        foreach (var link in mine) link.Close("the device went away", initiator: transport.Name);
    }

    internal void Forget(SimulatedLink link)
    {
        lock (_gate) _links.Remove(link);
        Note("link-closed", $"{link.A.Owner} -> {link.B.Owner} #{link.Ordinal}: {link.Reason}");
    }

    /// <summary>Decides the fate of a frame sent on <paramref name="end"/> and schedules its copies; false when the link is closed or the frame too large.</summary>
    internal bool Send(SimulatedLink link, SimulatedConnection end, LinkFrame frame)
    {
        var bytes = frame.ToByteArray();
        if (bytes.Length > MaxFrameBytes)
        {
            link.Close($"frame too large ({bytes.Length} bytes)", initiator: null);
            return false;
        }
        var to = link.Other(end);
        lock (_gate)
        {
            if (_stopping || link.IsClosed) return false;
            var fate = link.StreamFrom(end).Next(_faults);
            Counters.Sent();
            var now = _clock.ElapsedMilliseconds;
            if (fate.Copies == 0)
            {
                Counters.Lost();
                _trace.Add(now, "lost", $"{end.Owner} -> {to.Owner} {frame.BodyCase}");
                return true;
            }
            var due = now + fate.DelayMs;
            if (!fate.Overtakes) due = Math.Max(due, link.LastDue(end));
            else if (due < link.LastDue(end))
            {
                Counters.Overtook();
                _trace.Add(now, "reordered", $"{end.Owner} -> {to.Owner} {frame.BodyCase} overtakes earlier frames");
            }
            link.SetLastDue(end, Math.Max(due, link.LastDue(end)));
            _queue.Enqueue(new Delivery(link, to, bytes), (due, _serial++));
            if (fate.Copies == 2)
            {
                Counters.Duplicated();
                _trace.Add(now, "duplicated", $"{end.Owner} -> {to.Owner} {frame.BodyCase}");
                _queue.Enqueue(new Delivery(link, to, bytes), (due + fate.DuplicateDelayMs, _serial++));
            }
            Monitor.PulseAll(_gate);
        }
        return true;
    }

    private void RunScheduler()
    {
        while (true)
        {
            Delivery next;
            lock (_gate)
            {
                while (true)
                {
                    if (_stopping) return;
                    if (_queue.TryPeek(out _, out var at))
                    {
                        var wait = at.Due - _clock.ElapsedMilliseconds;
                        if (wait <= 0) break;
                        Monitor.Wait(_gate, TimeSpan.FromMilliseconds(wait));
                    }
                    else Monitor.Wait(_gate);
                }
                next = _queue.Dequeue();
            }
            if (next.Link.IsClosed) continue;
            next.To.Deliver(LinkFrame.Parser.ParseFrom(next.Bytes));
            Counters.Delivered();
        }
    }

    internal static (string, string) Pair(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);

    public async ValueTask DisposeAsync()
    {
        List<SimulatedLink> all;
        lock (_gate)
        {
            _stopping = true;
            all = [.. _links];
            Monitor.PulseAll(_gate);
        }
        foreach (var link in all) link.Close("the network stopped", initiator: null);
        await Task.Run(() => _scheduler.Join(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
    }

    private sealed record Listener(SimulatedLinkTransport Transport, Func<ILinkConnection, Task> OnInbound);

    private sealed record Delivery(SimulatedLink Link, SimulatedConnection To, byte[] Bytes);
}

/// <summary>What the network did so far (thread-safe counters).</summary>
public sealed class NetworkCounters
{
    private long _sent, _delivered, _lost, _duplicated, _overtook, _dialed, _refused;

    public long FramesSent => Interlocked.Read(ref _sent);
    public long FramesDelivered => Interlocked.Read(ref _delivered);
    public long FramesLost => Interlocked.Read(ref _lost);
    public long FramesDuplicated => Interlocked.Read(ref _duplicated);
    public long FramesReordered => Interlocked.Read(ref _overtook);
    public long LinksOpened => Interlocked.Read(ref _dialed);
    public long DialsRefused => Interlocked.Read(ref _refused);

    internal void Sent() => Interlocked.Increment(ref _sent);
    internal void Delivered() => Interlocked.Increment(ref _delivered);
    internal void Lost() => Interlocked.Increment(ref _lost);
    internal void Duplicated() => Interlocked.Increment(ref _duplicated);
    internal void Overtook() => Interlocked.Increment(ref _overtook);
    internal void Dialed() => Interlocked.Increment(ref _dialed);
    internal void Refused() => Interlocked.Increment(ref _refused);
}

/// <summary>A bounded ring of trace lines ("+1234ms kind detail").</summary>
internal sealed class TraceLog
{
    private readonly Lock _gate = new();
    private readonly Queue<string> _lines = new();
    private readonly int _capacity;

    public TraceLog(int capacity) => _capacity = Math.Max(10, capacity);

    public void Add(long atMs, string kind, string detail)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"+{atMs,7}ms {kind,-13} {detail}");
        lock (_gate)
        {
            _lines.Enqueue(line);
            while (_lines.Count > _capacity) _lines.Dequeue();
        }
    }

    public IReadOnlyList<string> Last(int count)
    {
        lock (_gate) return _lines.Skip(Math.Max(0, _lines.Count - count)).ToList();
    }
}

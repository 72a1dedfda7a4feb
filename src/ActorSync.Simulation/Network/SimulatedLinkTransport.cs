using System.Threading.Channels;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;

namespace ActorSync.Simulation.Network;

/// <summary>
/// <see cref="ILinkTransport"/> over a <see cref="SimulatedNetwork"/>: the same contract as the gRPC
/// transport (a dial succeeds only when the listener's key is the one pinned for the device dialed,
/// and the listener accepts only keys it knows, naming the dialer by its key), with frames carried
/// by the network's scheduler instead of TLS streams.
/// </summary>
public sealed class SimulatedLinkTransport : ILinkTransport
{
    private readonly SimulatedNetwork _network;
    private bool _listening;

    internal SimulatedLinkTransport(SimulatedNetwork network, string name, byte[] pin, IPinDirectory pins)
    {
        _network = network;
        Name = name;
        Pin = (byte[])pin.Clone();
        Pins = pins;
    }

    /// <summary>The device's name in the simulation (stable across restarts; its address derives from it).</summary>
    public string Name { get; }

    /// <summary>The SHA-256 pin of this device's TLS key, as its card lists it.</summary>
    public byte[] Pin { get; }

    public IPinDirectory Pins { get; }

    public string? ListenAddress => _listening ? _network.AddressOf(Name) : null;

    public Task StartAsync(Func<ILinkConnection, Task> onInbound, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(onInbound);
        _listening = true;
        _network.Listen(this, onInbound);
        return Task.CompletedTask;
    }

    public Task<ILinkConnection> DialAsync(DeviceId device, string address, CancellationToken ct) => _network.DialAsync(this, device, address, ct);

    public ValueTask DisposeAsync()
    {
        _listening = false;
        _network.Detach(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>One link between two simulated devices: its two ends and a fault stream per direction.</summary>
internal sealed class SimulatedLink
{
    private readonly SimulatedNetwork _network;
    private readonly FaultStream _fromA;
    private readonly FaultStream _fromB;
    private long _lastDueA;
    private long _lastDueB;
    private int _closed;

    public SimulatedLink(SimulatedNetwork network, SimulatedLinkTransport dialer, SimulatedLinkTransport listener, DeviceId listenerDevice,
        DeviceId dialerDevice, int ordinal)
    {
        _network = network;
        Ordinal = ordinal;
        A = new SimulatedConnection(this, dialer, listenerDevice, inbound: false);
        B = new SimulatedConnection(this, listener, dialerDevice, inbound: true);
        _fromA = new FaultStream(network.Seed, dialer.Name, listener.Name, ordinal);
        _fromB = new FaultStream(network.Seed, listener.Name, dialer.Name, ordinal);
    }

    /// <summary>The dialer's end.</summary>
    public SimulatedConnection A { get; }

    /// <summary>The listener's end.</summary>
    public SimulatedConnection B { get; }

    public int Ordinal { get; }
    public bool IsClosed => Volatile.Read(ref _closed) != 0;
    public string Reason { get; private set; } = "";

    public bool Joins(string a, string b) => (A.Owner == a && B.Owner == b) || (A.Owner == b && B.Owner == a);

    public SimulatedConnection Other(SimulatedConnection end) => end == A ? B : A;

    public FaultStream StreamFrom(SimulatedConnection end) => end == A ? _fromA : _fromB;

    public long LastDue(SimulatedConnection end) => end == A ? _lastDueA : _lastDueB;

    public void SetLastDue(SimulatedConnection end, long due)
    {
        if (end == A) _lastDueA = due;
        else _lastDueB = due;
    }

    public bool Send(SimulatedConnection end, LinkFrame frame) => _network.Send(this, end, frame);

    /// <param name="initiator">The device that closed it on purpose; null for a network event (both ends see the reason).</param>
    public void Close(string reason, string? initiator)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        Reason = reason;
        A.Finish(initiator is null ? reason : initiator == A.Owner ? GrpcLinkConnection.ClosedLocallyReason : GrpcLinkConnection.ClosedRemotelyReason);
        B.Finish(initiator is null ? reason : initiator == B.Owner ? GrpcLinkConnection.ClosedLocallyReason : GrpcLinkConnection.ClosedRemotelyReason);
        _network.Forget(this);
    }
}

/// <summary>One end of a <see cref="SimulatedLink"/>, as the peer's PeerLink sees it.</summary>
internal sealed class SimulatedConnection : ILinkConnection
{
    private readonly SimulatedLink _link;
    private readonly Channel<LinkFrame> _received = Channel.CreateUnbounded<LinkFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SimulatedConnection(SimulatedLink link, SimulatedLinkTransport transport, DeviceId remote, bool inbound)
    {
        _link = link;
        Transport = transport;
        Remote = remote;
        Inbound = inbound;
    }

    public SimulatedLinkTransport Transport { get; }
    public string Owner => Transport.Name;
    public DeviceId Remote { get; }
    public bool Inbound { get; }
    public Task<string> Closed => _closed.Task;

    public bool TrySend(LinkFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return !_link.IsClosed && _link.Send(this, frame);
    }

    public IAsyncEnumerable<LinkFrame> ReadAllAsync(CancellationToken ct) => _received.Reader.ReadAllAsync(ct);

    internal void Deliver(LinkFrame frame) => _received.Writer.TryWrite(frame);

    internal void Finish(string reason)
    {
        _received.Writer.TryComplete();
        _closed.TrySetResult(reason);
    }

    public ValueTask DisposeAsync()
    {
        _link.Close(GrpcLinkConnection.ClosedLocallyReason, Owner);
        return ValueTask.CompletedTask;
    }
}

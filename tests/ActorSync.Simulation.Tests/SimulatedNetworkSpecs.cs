using System.Collections.Concurrent;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;
using ActorSync.Protocol.Wire;
using ActorSync.Simulation.Network;
using ActorSync.Tests.Shared;
using Xunit;

namespace ActorSync.Simulation.Tests;

/// <summary>The simulated network on its own: authentication by pinned key, fault decisions from the seed, partitions.</summary>
public sealed class SimulatedNetworkSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A device on a network: its id, its pin, whom it trusts, and what it received.</summary>
    private sealed class Device
    {
        public Device(SimulatedNetwork network, string name)
        {
            Name = name;
            Id = DeviceIdentity.Generate().Id;
            Pin = System.Security.Cryptography.RandomNumberGenerator.GetBytes(DeviceCertificate.PinSize);
            Transport = network.Transport(name, Pin, Pins);
            Address = network.AddressOf(name);
        }

        public string Name { get; }
        public DeviceId Id { get; }
        public byte[] Pin { get; }
        public PinDirectory Pins { get; } = new();
        public SimulatedLinkTransport Transport { get; }
        public string Address { get; }
        public ConcurrentQueue<ILinkConnection> Accepted { get; } = new();
        public ConcurrentQueue<ulong> Received { get; } = new();

        public void Trust(Device other) => Pins.Add(other.Id, other.Pin);

        public Task ListenAsync() => Transport.StartAsync(c =>
        {
            Accepted.Enqueue(c);
            _ = Task.Run(async () =>
            {
                await foreach (var frame in c.ReadAllAsync(CancellationToken.None)) Received.Enqueue(frame.Ping.Nonce);
            });
            return Task.CompletedTask;
        }, CancellationToken.None);
    }

    private static LinkFrame Ping(ulong n) => new() { Ping = new Ping { Nonce = n } };

    private static async Task<(Device A, Device B)> PairAsync(SimulatedNetwork network)
    {
        var a = new Device(network, "a");
        var b = new Device(network, "b");
        a.Trust(b);
        b.Trust(a);
        await b.ListenAsync();
        return (a, b);
    }

    [Fact]
    public async Task Network_should_give_a_link_whose_remote_is_the_device_dialed_and_name_the_dialer_by_its_key()
    {
        await using var network = new SimulatedNetwork(1);
        var (a, b) = await PairAsync(network);
        var link = await a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None);
        Assert.Equal(b.Id, link.Remote);
        Assert.False(link.Inbound);
        await Poll.Until(() => !b.Accepted.IsEmpty, "b accepts", Patience);
        Assert.True(b.Accepted.TryPeek(out var inbound));
        Assert.Equal(a.Id, inbound.Remote);
        Assert.True(inbound.Inbound);
    }

    [Fact]
    public async Task Network_should_refuse_unknown_keys_and_keys_other_than_the_pinned_one()
    {
        await using var network = new SimulatedNetwork(1);
        var a = new Device(network, "a");
        var b = new Device(network, "b");
        var c = new Device(network, "c");
        await b.ListenAsync();
        await c.ListenAsync();
        // a knows b, but b does not know a: PermissionDenied.
        a.Trust(b);
        var unknown = await Assert.ThrowsAsync<LinkException>(() => a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None));
        Assert.Contains("not known", unknown.Message, StringComparison.Ordinal);
        // a dials b's id at c's address: c's key is not b's pin.
        c.Trust(a);
        var wrong = await Assert.ThrowsAsync<LinkException>(() => a.Transport.DialAsync(b.Id, c.Address, CancellationToken.None));
        Assert.Contains("not the one pinned", wrong.Message, StringComparison.Ordinal);
        // A device a has no pin for at all.
        var none = await Assert.ThrowsAsync<LinkException>(() => a.Transport.DialAsync(DeviceIdentity.Generate().Id, c.Address, CancellationToken.None));
        Assert.Contains("no TLS pin", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Partition_should_close_the_links_it_cuts_and_refuse_dials_until_healed()
    {
        await using var network = new SimulatedNetwork(1);
        var (a, b) = await PairAsync(network);
        var link = await a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None);
        network.Partition("a", "b");
        Assert.Equal("partitioned", await link.Closed.WaitAsync(Patience));
        Assert.False(link.TrySend(Ping(1)));
        await Assert.ThrowsAsync<LinkException>(() => a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None));
        network.Heal("a", "b");
        var again = await a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None);
        Assert.True(again.TrySend(Ping(2)));
        await Poll.Until(() => b.Received.Contains(2UL), "a frame after the heal", Patience);
    }

    [Fact]
    public async Task Network_without_faults_should_deliver_every_frame_once_in_order()
    {
        await using var network = new SimulatedNetwork(5);
        var (a, b) = await PairAsync(network);
        var link = await a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None);
        for (ulong i = 1; i <= 500; i++) Assert.True(link.TrySend(Ping(i)));
        await Poll.Until(() => b.Received.Count >= 500, "500 frames", Patience);
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (ulong)i), b.Received);
    }

    [Fact]
    public async Task Loss_duplication_and_reordering_should_be_the_same_for_the_same_seed_and_differ_for_another()
    {
        var faults = new LinkFaults(Loss: 0.2, Duplication: 0.1, Reorder: 0.1, MaxDelayMs: 3);
        var first = await DeliveredAsync(42, faults);
        var again = await DeliveredAsync(42, faults);
        var other = await DeliveredAsync(43, faults);
        // Which frames survive, and how many copies of each, depends on the seed only (arrival order may differ by scheduling, hence sorted).
        Assert.Equal(first.Order(), again.Order());
        Assert.NotEqual(first.Order(), other.Order());
        Assert.InRange(first.Distinct().Count(), 300 * 0.7, 300 * 0.9);
        Assert.True(first.Count > first.Distinct().Count(), "some frames were duplicated");
    }

    /// <summary>Sends 300 frames with faults, then a final frame with none (it is delivered after all survivors), and returns what arrived.</summary>
    private static async Task<List<ulong>> DeliveredAsync(int seed, LinkFaults faults)
    {
        await using var network = new SimulatedNetwork(seed, faults);
        var (a, b) = await PairAsync(network);
        var link = await a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None);
        for (ulong i = 1; i <= 300; i++) link.TrySend(Ping(i));
        network.Faults = LinkFaults.None;
        link.TrySend(Ping(999_999));
        await Poll.Until(() => b.Received.Contains(999_999UL), "the closing frame", Patience);
        // Reordered frames and duplicates may be due a few milliseconds after the closing frame.
        var c = network.Counters;
        await Poll.Until(() => b.Received.Count >= c.FramesSent - c.FramesLost + c.FramesDuplicated, "every scheduled copy received", Patience);
        return b.Received.Where(n => n != 999_999).ToList();
    }

    [Fact]
    public void Fault_stream_should_hit_the_configured_loss_rate()
    {
        var stream = new FaultStream(7, "a", "b", 1);
        var faults = new LinkFaults(Loss: 0.3);
        var lost = Enumerable.Range(0, 10_000).Count(_ => stream.Next(faults).Copies == 0);
        Assert.InRange(lost, 2_700, 3_300);
    }

    [Fact]
    public async Task Isolation_should_cut_every_link_of_a_device_until_it_rejoins()
    {
        await using var network = new SimulatedNetwork(1);
        var (a, b) = await PairAsync(network);
        var link = await a.Transport.DialAsync(b.Id, b.Address, CancellationToken.None);
        network.Isolate("b");
        Assert.Equal("offline", await link.Closed.WaitAsync(Patience));
        Assert.False(network.Reachable("a", "b"));
        network.Rejoin("b");
        Assert.True(network.Reachable("a", "b"));
        Assert.Contains(network.Trace(), line => line.Contains("isolate", StringComparison.Ordinal));
    }
}

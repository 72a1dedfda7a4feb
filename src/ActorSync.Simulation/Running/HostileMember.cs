using System.Collections.Concurrent;
using ActorSync.Core.Causality;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using ActorSync.Simulation.Network;
using Google.Protobuf;

namespace ActorSync.Simulation.Running;

/// <summary>
/// A member device run by hand from ActorSync.Core on the simulated network: real account, device
/// and TLS keys, an honest replica of its own (it joins, syncs and acks like a peer), and the means
/// to put forged, replayed and over-reaching deltas on the wire. Invited as a guest.
/// </summary>
internal sealed class HostileMember : IAsyncDisposable
{
    public const string DeviceName = "mallory";

    private readonly object _gate = new();
    private readonly PinDirectory _pins = new();
    private readonly ConcurrentDictionary<ILinkConnection, int> _acks = new();
    private readonly ConcurrentDictionary<DeviceId, ILinkConnection> _inbound = new();
    private readonly ConcurrentDictionary<ILinkConnection, int> _batchesSent = new();
    private long _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private Replica? _replica;

    public HostileMember(SimulatedNetwork network)
    {
        Account = AccountIdentity.Generate(DeviceName);
        Device = DeviceIdentity.Generate();
        Tls = DeviceCertificate.Create(Device.Id);
        Card = ContactCard.Create(Account, [new CardDevice(Device.Id, Device.Signing.PublicKeyBytes, Tls.Pin)], [], _now);
        Transport = network.Transport(DeviceName, Tls.Pin, _pins);
        Address = network.AddressOf(DeviceName);
    }

    public AccountIdentity Account { get; }
    public DeviceIdentity Device { get; }
    public DeviceCertificate Tls { get; }
    public ContactCard Card { get; }
    public SimulatedLinkTransport Transport { get; }
    public string Address { get; }

    public bool Joined
    {
        get { lock (_gate) return _replica is not null; }
    }

    public string? StateHash()
    {
        lock (_gate) return _replica?.State.StateHash();
    }

    /// <summary>Trusts these devices' TLS keys (the peers' cards), and starts listening.</summary>
    public Task StartAsync(IEnumerable<ContactCard> peers)
    {
        foreach (var card in peers)
            foreach (var d in card.Devices)
                if (d.TlsPin is { } pin) _pins.Add(d.Id, pin);
        return Transport.StartAsync(connection =>
        {
            _inbound[connection.Remote] = connection;
            _ = Task.Run(() => PumpAsync(connection));
            return Task.CompletedTask;
        }, CancellationToken.None);
    }

    /// <summary>
    /// A link to <paramref name="device"/>: the one it opened to us if it is still up (a second link
    /// would lose the peer's tie-break and be closed under us), else a new one.
    /// </summary>
    public async Task<ILinkConnection> DialAsync(DeviceId device, string address)
    {
        if (_inbound.TryGetValue(device, out var open) && !open.Closed.IsCompleted) return open;
        var connection = await Transport.DialAsync(device, address, CancellationToken.None).ConfigureAwait(false);
        _ = Task.Run(() => PumpAsync(connection));
        // Introduce ourselves: the victim answers with what we lack, and acks our batches.
        if (WorkspaceOrNull() is { } ws) connection.TrySend(SummaryFrame(ws));
        return connection;
    }

    private WorkspaceId? WorkspaceOrNull()
    {
        lock (_gate) return _replica?.Id;
    }

    private LinkFrame SummaryFrame(WorkspaceId ws)
    {
        lock (_gate) return new LinkFrame { Summary = new Summary { Workspace = ws.ToWire(), Seen = _replica!.Seen.ToWire() } };
    }

    private async Task PumpAsync(ILinkConnection connection)
    {
        try
        {
            await foreach (var frame in connection.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                Handle(connection, frame);
        }
        catch (Exception e) when (e is OperationCanceledException or LinkException or InvalidOperationException)
        {
            // the link is down
        }
    }

    private void Handle(ILinkConnection connection, LinkFrame frame)
    {
        try
        {
            switch (frame.BodyCase)
            {
                case LinkFrame.BodyOneofCase.Invitation:
                    lock (_gate)
                    {
                        if (_replica is not null) return;
                        _replica = Replica.Join(InvitationCodec.Decode(frame.Invitation.Invitation.ToByteArray()), Account, Device);
                    }
                    connection.TrySend(SummaryFrame(_replica.Id));
                    break;
                case LinkFrame.BodyOneofCase.Summary when WorkspaceOrNull() is { } ws && frame.Summary.Workspace.ToWorkspaceId() == ws:
                    connection.TrySend(SummaryFrame(ws));
                    break;
                case LinkFrame.BodyOneofCase.Deltas when WorkspaceOrNull() is { } ws && frame.Deltas.Workspace.ToWorkspaceId() == ws:
                    LinkFrame ack;
                    lock (_gate)
                    {
                        foreach (var d in frame.Deltas.Deltas) _replica!.Receive(DeltaCodec.Decode(d.ToByteArray()));
                        ack = new LinkFrame { Ack = new Ack { Workspace = ws.ToWire(), Applied = _replica!.State.Applied.ToWire() } };
                    }
                    connection.TrySend(ack);
                    break;
                case LinkFrame.BodyOneofCase.Ack:
                    _acks.AddOrUpdate(connection, 1, (_, n) => n + 1);
                    break;
                default:
                    break;
            }
        }
        catch (Core.Encoding.WireFormatException)
        {
            // a malformed frame from a peer would be a finding elsewhere; the hostile member ignores it
        }
    }

    /// <summary>Sends a batch of raw delta bytes on <paramref name="connection"/>.</summary>
    public void SendBatch(ILinkConnection connection, WorkspaceId ws, IEnumerable<byte[]> deltas)
    {
        var batch = new DeltaBatch { Workspace = ws.ToWire() };
        batch.Deltas.AddRange(deltas.Select(ByteString.CopyFrom));
        _batchesSent.AddOrUpdate(connection, 1, (_, n) => n + 1);
        if (!connection.TrySend(new LinkFrame { Deltas = batch })) throw new LinkException("the hostile member's link refused a frame");
    }

    /// <summary>
    /// Sends an empty batch and waits until the victim acked every batch sent on this link: its
    /// workspace answers each batch with one ack, in order, so everything before has been handled.
    /// The network must be healed (no loss) when this is used.
    /// </summary>
    public async Task BarrierAsync(ILinkConnection connection, WorkspaceId ws, TimeSpan patience)
    {
        SendBatch(connection, ws, []);
        var expected = _batchesSent[connection];
        var deadline = DateTime.UtcNow + patience;
        while (_acks.GetValueOrDefault(connection) < expected)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the victim did not ack the hostile batches within {patience}");
            if (connection.Closed.IsCompleted) throw new LinkException("the hostile link closed: " + await connection.Closed.ConfigureAwait(false));
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The deltas to inject, built against the current replica: a genuine chat message (held back),
    /// that message with its signature bit flipped, a chat message in <paramref name="victimName"/>'s
    /// name signed with this device's key, a discussion topic (guests may only view discussions:
    /// an escalation), a replay of the genuine message's id with other content, and garbage.
    /// </summary>
    public Injection Forge(string victimName, string marker)
    {
        lock (_gate)
        {
            var r = _replica ?? throw new InvalidOperationException("the hostile member never joined");
            var chat = r.State.DefaultTool(ToolKind.Chat) ?? throw new InvalidOperationException("no chat tool");
            var discussion = r.State.DefaultTool(ToolKind.Discussion) ?? throw new InvalidOperationException("no discussion tool");
            var result = r.Author(chat, Entry(marker + "-genuine"), Tick());
            if (!result.Ok) throw new InvalidOperationException("the hostile member cannot chat: " + result.Rejection);
            var genuine = result.Deltas[^1];
            var flipped = genuine.Bytes.ToArray();
            flipped[^1] ^= 0x01;
            var victim = r.State.Current.Members.Values.Single(m => m.Name == victimName);
            var victimDevice = victim.Card.Devices[0].Id;
            var asVictim = DeltaCrypto.Seal(Header(r, victim.Id, victimDevice, chat, r.State.Applied[victimDevice] + 1), Entry(marker + "-impersonated"), r.Keyring,
                Device.Signing);
            var escalated = DeltaCrypto.Seal(Header(r, Account.Id, Device.Id, discussion, genuine.Header.Seq + 1), Entry(marker + "-escalated"), r.Keyring,
                Device.Signing);
            var replay = DeltaCrypto.Seal(genuine.Header, Entry(marker + "-replayed"), r.Keyring, Device.Signing);
            var garbage = System.Security.Cryptography.RandomNumberGenerator.GetBytes(300);
            return new Injection(r.Id, [.. result.Deltas.Select(d => d.Bytes.ToArray())], genuine.Id, flipped, asVictim.Bytes.ToArray(), escalated.Id,
                escalated.Bytes.ToArray(), replay.Bytes.ToArray(), garbage,
                [marker + "-impersonated", marker + "-escalated", marker + "-replayed"], marker + "-genuine");
        }
    }

    private DeltaHeader Header(Replica view, AccountId author, DeviceId device, ToolId tool, ulong seq) =>
        new(view.Id, view.State.Current.Epoch, author, device, seq, [.. view.Heads.Where(h => h.Device != device).Order()],
            HlcTimestamp.From(Tick(), 0), tool, OpKind.CreateEntry);

    private static CreateEntry Entry(string text) => new(EntryFields.Of(("text", text)));

    private long Tick() => _now = Math.Max(_now + 11, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync().ConfigureAwait(false);
        lock (_gate) _replica?.Dispose();
        Tls.Dispose();
        Account.Dispose();
        Device.Dispose();
    }
}

/// <summary>What the hostile member injects, and the texts that must appear nowhere (and the one that must appear everywhere).</summary>
internal sealed record Injection(
    WorkspaceId Workspace,
    IReadOnlyList<byte[]> Genuine,
    DeltaId GenuineId,
    byte[] BadSignature,
    byte[] Impersonation,
    DeltaId EscalationId,
    byte[] Escalation,
    byte[] Replay,
    byte[] Garbage,
    IReadOnlyList<string> ForbiddenTexts,
    string GenuineText);

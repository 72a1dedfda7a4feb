using ActorSync.Core.Causality;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Peer.Links;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Google.Protobuf;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// Another account's device built from ActorSync.Core alone (no actors): its keys, a TLS key pinned on
/// its card, and a replica of its own, so specs can play the other end of a link frame by frame.
/// </summary>
internal sealed class RemoteMember : IDisposable
{
    private long _now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public RemoteMember(string name)
    {
        Account = AccountIdentity.Generate(name);
        Device = DeviceIdentity.Generate();
        Tls = DeviceCertificate.Create(Device.Id);
        Card = ContactCard.Create(Account, [new CardDevice(Device.Id, Device.Signing.PublicKeyBytes, Tls.Pin)], [], _now);
    }

    public AccountIdentity Account { get; }
    public DeviceIdentity Device { get; }
    public DeviceCertificate Tls { get; }
    public ContactCard Card { get; }
    public DeviceId Id => Device.Id;
    public Replica? Replica { get; private set; }

    public long Tick() => _now += 11;

    /// <summary>Joins with an invitation as it arrived in a frame (signed bytes).</summary>
    public Replica Join(byte[] invitation)
    {
        Replica?.Dispose();
        Replica = Replica.Join(InvitationCodec.Decode(invitation), Account, Device);
        return Replica;
    }

    /// <summary>Starts a workspace of its own, with this account as manager.</summary>
    public Replica Create(string name)
    {
        Replica?.Dispose();
        Replica = Replica.Create(name, Account, Device, Card, Tick(), out _);
        return Replica;
    }

    /// <summary>Invites a card into this member's own workspace; the invitation as the signed bytes that travel.</summary>
    public byte[] Invite(ContactCard card, Role role = Role.Participant)
    {
        var result = Replica!.Invite(card, role, Tick(), out var invitation);
        if (!result.Ok) throw new InvalidOperationException(result.Rejection);
        return InvitationCodec.Encode(invitation!, Device);
    }

    /// <summary>Applies deltas as they came in a batch; returns how many were applied.</summary>
    public int Receive(IEnumerable<ByteString> deltas) =>
        deltas.Sum(d => Replica!.Receive(DeltaCodec.Decode(d.ToByteArray())).Count(o => o.Status == ReceiveStatus.Applied));

    /// <summary>Authors an entry in the default tool of a kind; the sealed deltas to send (a key rotation may come first).</summary>
    public IReadOnlyList<SealedDelta> Post(ToolKind kind, params (string Name, string Value)[] fields)
    {
        var tool = Replica!.State.DefaultTool(kind) ?? throw new InvalidOperationException("no " + kind + " tool");
        var result = Replica.Author(tool, new CreateEntry(EntryFields.Of(fields)), Tick());
        if (!result.Ok) throw new InvalidOperationException(result.Rejection);
        return result.Deltas;
    }

    public static LinkFrame Batch(WorkspaceId workspace, IEnumerable<SealedDelta> deltas) => BatchOf(workspace, deltas.Select(d => d.Bytes));

    public static LinkFrame BatchOf(WorkspaceId workspace, IEnumerable<byte[]> deltas)
    {
        var batch = new DeltaBatch { Workspace = workspace.ToWire() };
        batch.Deltas.AddRange(deltas.Select(ByteString.CopyFrom));
        return new LinkFrame { Deltas = batch };
    }

    public static LinkFrame Summary(WorkspaceId workspace, VersionVector seen) =>
        new() { Summary = new Summary { Workspace = workspace.ToWire(), Seen = seen.ToWire() } };

    public static LinkFrame InvitationFrame(byte[] invitation) =>
        new() { Invitation = new InvitationEnvelope { Invitation = ByteString.CopyFrom(invitation) } };

    public void Dispose()
    {
        Replica?.Dispose();
        Tls.Dispose();
        Account.Dispose();
        Device.Dispose();
    }
}

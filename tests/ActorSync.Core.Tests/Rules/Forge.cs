using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// Hand-sealed deltas: what a modified client or a hostile device can put on the wire, bypassing
/// the checks <see cref="Replica.Author"/> makes before sealing. Receivers must catch them.
/// </summary>
internal static class Forge
{
    /// <summary>The header an honest author's replica would write next: next sequence number, the heads it has seen, a later time.</summary>
    public static DeltaHeader NextHeader(Replica authorReplica, TestMember author, ToolId tool, OpKind kind, long millis, KeyGrant? keys = null) =>
        new(authorReplica.Id,
            authorReplica.State.Current.Epoch,
            author.Id,
            author.Device.Id,
            authorReplica.State.Applied[author.Device.Id] + 1,
            [.. authorReplica.Heads.Where(h => h.Device != author.Device.Id).Order()],
            HlcTimestamp.From(millis, 0),
            tool,
            kind,
            keys);

    /// <summary>Seals <paramref name="op"/> as <paramref name="author"/>'s device would, from its replica's current view.</summary>
    public static SealedDelta Seal(Replica authorReplica, TestMember author, ToolId tool, DeltaOp op, long millis, KeyGrant? keys = null) =>
        DeltaCrypto.Seal(NextHeader(authorReplica, author, tool, op.Kind, millis, keys), op, authorReplica.Keyring, author.Device.Signing);

    /// <summary>What a receiver gets: the delta re-parsed from its bytes, as it arrives from a peer or a relay.</summary>
    public static SealedDelta OverTheWire(SealedDelta delta) => DeltaCodec.Decode([.. delta.Bytes]);

    /// <summary>The same bytes with one byte changed: what a bit error or a tampering relay produces.</summary>
    public static SealedDelta Tampered(SealedDelta delta, int index, byte mask = 0x01)
    {
        var bytes = delta.Bytes.ToArray();
        bytes[index] ^= mask;
        return DeltaCodec.Decode(bytes);
    }

    /// <summary>A fresh keyring holding a copy of the given one's keys (a device that copied them, or a stolen key).</summary>
    public static EpochKeyring CopyOf(EpochKeyring source, WorkspaceId workspace)
    {
        var copy = new EpochKeyring(workspace);
        copy.Import(source.Export());
        return copy;
    }
}

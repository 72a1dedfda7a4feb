using System.Buffers.Binary;
using System.Security.Cryptography;
using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;

namespace ActorSync.Core.Crypto;

/// <summary>
/// Names a key epoch by the delta that opened it (the workspace's creation, or a key rotation).
/// Deriving it from a delta id, not from a counter, keeps two concurrent rotations from ever
/// naming the same epoch with different keys.
/// </summary>
public readonly record struct EpochId(ulong High, ulong Low)
{
    public const int Size = 16;

    public static EpochId OpenedBy(DeltaId delta)
    {
        var w = new WireWriter(48);
        w.String("actorsync/epoch");
        delta.Write(w);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(w.WrittenSpan, hash);
        return new EpochId(BinaryPrimitives.ReadUInt64BigEndian(hash), BinaryPrimitives.ReadUInt64BigEndian(hash[8..]));
    }

    public void Write(WireWriter w)
    {
        w.UInt64Fixed(High);
        w.UInt64Fixed(Low);
    }

    public static EpochId Read(ref WireReader r) => new(r.UInt64Fixed("epoch id"), r.UInt64Fixed("epoch id"));

    public override string ToString() => $"{High:x16}"[..8];
}

using System.Buffers.Binary;
using NSec.Cryptography;

namespace ActorSync.Core.Deltas;

/// <summary>
/// Tree roots whose signature one replica has verified, with the depth, key and signature it verified:
/// the other deltas of the same tree (up to 15) then cost two hashes each instead of an Ed25519
/// verification. Bounded (a tree's deltas arrive together); not thread-safe: one per replica, used
/// on its thread.
/// </summary>
public sealed class VerifiedRoots
{
    /// <summary>Trees a replica is taking in at once (one frame, a catch-up batch) are far fewer.</summary>
    private const int Capacity = 256;

    // Made on first use: a replica that never meets a tree (most of 1,000 idle workspaces) keeps none.
    private Dictionary<RootKey, (int Depth, PublicKey Key, byte[] Signature)>? _roots;
    private Queue<RootKey>? _order;

    public int Count => _roots?.Count ?? 0;

    /// <summary>True only for the same root, depth, key and signature bytes as verified (the signed message holds the depth too).</summary>
    public bool Contains(ReadOnlySpan<byte> root, int depth, PublicKey key, ReadOnlySpan<byte> signature) =>
        _roots is not null && _roots.TryGetValue(RootKey.Of(root), out var known)
        && known.Depth == depth
        && (ReferenceEquals(known.Key, key) || known.Key.Equals(key))
        && known.Signature.AsSpan().SequenceEqual(signature);

    public void Add(ReadOnlySpan<byte> root, int depth, PublicKey key, ReadOnlySpan<byte> signature)
    {
        var k = RootKey.Of(root);
        _roots ??= [];
        _order ??= new Queue<RootKey>();
        if (_roots.ContainsKey(k)) return;
        if (_roots.Count >= Capacity) _roots.Remove(_order.Dequeue());
        _roots[k] = (depth, key, signature.ToArray());
        _order.Enqueue(k);
    }

    /// <summary>A root as a dictionary key.</summary>
    internal readonly record struct RootKey(ulong A, ulong B, ulong C, ulong D)
    {
        public static RootKey Of(ReadOnlySpan<byte> root) => new(BinaryPrimitives.ReadUInt64LittleEndian(root), BinaryPrimitives.ReadUInt64LittleEndian(root[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(root[16..]), BinaryPrimitives.ReadUInt64LittleEndian(root[24..]));
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using ActorSync.Core.Crypto;

namespace ActorSync.Core.Deltas;

/// <summary>
/// The hash tree that lets one Ed25519 signature cover the deltas a device authors together (a
/// request's entries, a window of file chunks): the device signs the tree's root once, and each
/// delta carries its path to that root, so it is still verified alone, wherever and whenever it
/// arrives. Signatures were most of the cost of a delta (verifying two received ones per delta
/// authored took 45% of both cores with three members writing).
/// </summary>
/// <remarks>
/// A leaf is SHA-256 of the delta's bytes before its proof (they begin with the format version,
/// 2); an inner node is SHA-256 of 0x01, left, right, so a leaf can never pass for a node. The tree
/// has a fixed depth; positions no delta fills are 32 zero bytes. What is signed is
/// <see cref="SignedMessage"/>: a context string, the depth and the root.
/// </remarks>
public static class DeltaTree
{
    /// <summary>At most 2^4 = 16 deltas under one signature: a proof costs 32 bytes per level in every delta.</summary>
    public const int MaxDepth = 4;

    public const int HashSize = 32;

    private const byte NodeTag = 0x01;
    private static readonly byte[] Context = "ActorSync delta tree v2"u8.ToArray();

    /// <summary>Proof bytes in a delta: depth (1), index (2, big-endian), one sibling per level.</summary>
    public static int ProofSize(int depth) => 3 + depth * HashSize;

    /// <summary>The depth that holds <paramref name="count"/> deltas, at most <see cref="MaxDepth"/>; 0 for one delta (signed alone).</summary>
    public static int DepthFor(int count)
    {
        var depth = 0;
        while (depth < MaxDepth && 1 << depth < count) depth++;
        return depth;
    }

    private static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> hash)
    {
        Span<byte> input = stackalloc byte[1 + 2 * HashSize];
        input[0] = NodeTag;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + HashSize)..]);
        SHA256.HashData(input, hash);
    }

    /// <summary>The root a proof leads to from <paramref name="leaf"/>; the proof was bounds-checked when the delta was decoded.</summary>
    public static void Root(ReadOnlySpan<byte> leaf, ReadOnlySpan<byte> proof, Span<byte> root)
    {
        var depth = proof[0];
        var index = BinaryPrimitives.ReadUInt16BigEndian(proof[1..]);
        Span<byte> current = stackalloc byte[HashSize];
        leaf.CopyTo(current);
        for (var level = 0; level < depth; level++)
        {
            var sibling = proof.Slice(3 + level * HashSize, HashSize);
            if ((index >> level & 1) == 0) Node(current, sibling, current);
            else Node(sibling, current, current);
        }
        current.CopyTo(root);
    }

    /// <summary>What the device key signs for a tree: context, depth and root.</summary>
    public static void SignedMessage(int depth, ReadOnlySpan<byte> root, Span<byte> message)
    {
        Context.CopyTo(message);
        message[Context.Length] = (byte)depth;
        root.CopyTo(message[(Context.Length + 1)..]);
    }

    public static int SignedMessageSize => Context.Length + 1 + HashSize;

    /// <summary>
    /// Fills in the proofs and the one signature of deltas sealed for a tree of
    /// <paramref name="depth"/> (at most 2^depth, in index order), in their own bytes.
    /// </summary>
    internal static void Sign(IReadOnlyList<SealedDelta> deltas, int depth, SigningKeyPair deviceKey)
    {
        var width = 1 << depth;
        if (depth is < 1 or > MaxDepth || deltas.Count is 0 || deltas.Count > width) throw new ArgumentException("deltas do not fit the tree", nameof(deltas));
        for (var i = 0; i < deltas.Count; i++)
            if (deltas[i].Bytes[0] != DeltaCodec.TreeFormatVersion || deltas[i].Depth != depth || deltas[i].TreeIndex != i)
                throw new ArgumentException("a delta was sealed for another place in the tree", nameof(deltas));
        // levels[0] holds the leaves; levels[depth] the root. Unused positions stay zero.
        var levels = new byte[depth + 1][];
        for (var level = 0; level <= depth; level++) levels[level] = new byte[(width >> level) * HashSize];
        for (var i = 0; i < deltas.Count; i++) deltas[i].LeafHash.CopyTo(levels[0].AsSpan(i * HashSize, HashSize));
        for (var level = 1; level <= depth; level++)
        {
            var below = levels[level - 1];
            for (var i = 0; i < width >> level; i++)
                Node(below.AsSpan(2 * i * HashSize, HashSize), below.AsSpan((2 * i + 1) * HashSize, HashSize), levels[level].AsSpan(i * HashSize, HashSize));
        }
        Span<byte> message = stackalloc byte[SignedMessageSize];
        SignedMessage(depth, levels[depth], message);
        Span<byte> signature = stackalloc byte[Signing.SignatureSize];
        deviceKey.Sign(message, signature);
        for (var i = 0; i < deltas.Count; i++)
        {
            var d = deltas[i];
            var proof = d.Bytes.AsSpan(d.ProofStart, ProofSize(depth));
            var index = i;
            for (var level = 0; level < depth; level++, index >>= 1)
                levels[level].AsSpan((index ^ 1) * HashSize, HashSize).CopyTo(proof[(3 + level * HashSize)..]);
            signature.CopyTo(d.Bytes.AsSpan(d.Bytes.Length - Signing.SignatureSize));
        }
    }
}

using System.Security.Cryptography;
using ActorSync.Core.Causality;

namespace ActorSync.Core.Deltas;

/// <summary>
/// A delta exactly as its author signed it: parsed header plus the original bytes, which are what
/// is journaled, forwarded and relayed (ciphertext only), so every hop can re-verify it. A delta of
/// format 1 is signed alone; one of format 2 carries its path in a <see cref="DeltaTree"/> whose
/// root its device signed once for several deltas.
/// </summary>
public sealed class SealedDelta
{
    internal SealedDelta(DeltaHeader header, byte[] bytes, int headerEnd, int ciphertextStart, int ciphertextLength, int proofStart)
    {
        Header = header;
        Bytes = bytes;
        HeaderEnd = headerEnd;
        CiphertextStart = ciphertextStart;
        CiphertextLength = ciphertextLength;
        ProofStart = proofStart;
    }

    public DeltaHeader Header { get; }
    public byte[] Bytes { get; }
    public DeltaId Id => Header.Id;

    internal int HeaderEnd { get; }
    internal int CiphertextStart { get; }
    internal int CiphertextLength { get; }

    /// <summary>Where the tree proof starts (the signature's start for a delta signed alone).</summary>
    internal int ProofStart { get; }

    /// <summary>Whether the signature covers a tree root rather than this delta's own bytes.</summary>
    public bool InTree => ProofStart < Bytes.Length - Crypto.Signing.SignatureSize;

    /// <summary>The tree's depth (0 for a delta signed alone).</summary>
    internal int Depth => InTree ? Bytes[ProofStart] : 0;

    internal int TreeIndex => InTree ? Bytes[ProofStart + 1] << 8 | Bytes[ProofStart + 2] : 0;

    /// <summary>The header bytes, version included: the AEAD associated data.</summary>
    internal ReadOnlySpan<byte> AssociatedData => Bytes.AsSpan(0, HeaderEnd);
    internal ReadOnlySpan<byte> Nonce => Bytes.AsSpan(HeaderEnd, DeltaCodec.NonceSize);
    internal ReadOnlySpan<byte> Ciphertext => Bytes.AsSpan(CiphertextStart, CiphertextLength);

    /// <summary>Everything before the proof: a tree's leaf is its hash.</summary>
    internal ReadOnlySpan<byte> LeafPart => Bytes.AsSpan(0, ProofStart);

    internal ReadOnlySpan<byte> Proof => Bytes.AsSpan(ProofStart, Bytes.Length - Crypto.Signing.SignatureSize - ProofStart);

    /// <summary>Everything before the signature (what a delta signed alone signs).</summary>
    internal ReadOnlySpan<byte> SignedPart => Bytes.AsSpan(0, Bytes.Length - Crypto.Signing.SignatureSize);

    internal ReadOnlySpan<byte> Signature => Bytes.AsSpan(Bytes.Length - Crypto.Signing.SignatureSize);

    private byte[]? _leafHash;

    /// <summary>
    /// SHA-256 of <see cref="LeafPart"/>, this delta's leaf in its tree; computed once (signing,
    /// verifying and <see cref="Digest"/> all need it, and for file content each is a pass over
    /// the chunk). The leaf part is final once sealed: only the proof and signature come later.
    /// </summary>
    internal byte[] LeafHash => _leafHash ??= SHA256.HashData(LeafPart);

    /// <summary>
    /// A digest of all of this delta's bytes, which the journal records beside file content kept
    /// in the chunk pack (to find damaged content on recovery) and the log compares duplicates
    /// by. Format 1: SHA-256 of the bytes. Format 2: SHA-256 of the leaf hash, proof and
    /// signature, so it costs no second pass over the content.
    /// </summary>
    public byte[] Digest()
    {
        if (!InTree) return SHA256.HashData(Bytes);
        var tail = Bytes.AsSpan(ProofStart);
        Span<byte> input = stackalloc byte[DeltaTree.HashSize + tail.Length];
        LeafHash.CopyTo(input);
        tail.CopyTo(input[DeltaTree.HashSize..]);
        return SHA256.HashData(input);
    }

    public override string ToString() => $"delta {Id} {Header.Kind} on {Header.Tool}";
}

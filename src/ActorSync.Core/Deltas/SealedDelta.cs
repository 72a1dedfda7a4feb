using ActorSync.Core.Causality;

namespace ActorSync.Core.Deltas;

/// <summary>
/// A delta exactly as its author signed it: parsed header plus the original bytes, which are what
/// is journaled, forwarded and relayed (ciphertext only), so every hop can re-verify it.
/// </summary>
public sealed class SealedDelta
{
    internal SealedDelta(DeltaHeader header, byte[] bytes, int headerEnd, int ciphertextStart, int ciphertextLength)
    {
        Header = header;
        Bytes = bytes;
        HeaderEnd = headerEnd;
        CiphertextStart = ciphertextStart;
        CiphertextLength = ciphertextLength;
    }

    public DeltaHeader Header { get; }
    public byte[] Bytes { get; }
    public DeltaId Id => Header.Id;

    internal int HeaderEnd { get; }
    internal int CiphertextStart { get; }
    internal int CiphertextLength { get; }

    /// <summary>The header bytes after the version byte: the AEAD associated data.</summary>
    internal ReadOnlySpan<byte> AssociatedData => Bytes.AsSpan(0, HeaderEnd);
    internal ReadOnlySpan<byte> Nonce => Bytes.AsSpan(HeaderEnd, DeltaCodec.NonceSize);
    internal ReadOnlySpan<byte> Ciphertext => Bytes.AsSpan(CiphertextStart, CiphertextLength);
    internal ReadOnlySpan<byte> SignedPart => Bytes.AsSpan(0, Bytes.Length - Crypto.Signing.SignatureSize);
    internal ReadOnlySpan<byte> Signature => Bytes.AsSpan(Bytes.Length - Crypto.Signing.SignatureSize);

    public override string ToString() => $"delta {Id} {Header.Kind} on {Header.Tool}";
}

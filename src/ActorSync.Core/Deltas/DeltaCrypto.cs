using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Operations;
using NSec.Cryptography;

namespace ActorSync.Core.Deltas;

/// <summary>Why a delta could not be opened. Never carries plaintext or key material.</summary>
public enum OpenFailure
{
    None,
    BadSignature,
    NoKeyForEpoch,
    DecryptionFailed,
    MalformedPayload,
    KindMismatch,
}

/// <summary>
/// Seals an operation into a signed, encrypted delta and opens one again. Nonce: the author's
/// sequence number (8 bytes) and 4 random bytes under the author device's own subkey; a sequence
/// number is never reused by its device (a reuse is rejected everywhere as a replay), and the
/// random part still separates two deltas even if a restored device ever repeated one.
/// </summary>
public static class DeltaCrypto
{
    /// <summary>Seals and signs a delta alone (format 1).</summary>
    public static SealedDelta Seal(DeltaHeader header, DeltaOp op, EpochKeyring keyring, SigningKeyPair deviceKey)
    {
        var delta = SealCore(header, op, keyring, DeltaCodec.FormatVersion, tailLength: Signing.SignatureSize, depth: 0, index: 0);
        deviceKey.Sign(delta.SignedPart, delta.Bytes.AsSpan(delta.Bytes.Length - Signing.SignatureSize));
        return delta;
    }

    /// <summary>
    /// Seals a delta for place <paramref name="index"/> of a tree of <paramref name="depth"/>
    /// (format 2), not yet signed: <see cref="DeltaTree.Sign"/> fills in its proof and signature
    /// once the tree's deltas are all sealed. Its bytes must not leave before that.
    /// </summary>
    internal static SealedDelta SealForTree(DeltaHeader header, DeltaOp op, EpochKeyring keyring, int depth, int index)
    {
        if (depth is < 1 or > DeltaTree.MaxDepth || index < 0 || index >= 1 << depth) throw new ArgumentOutOfRangeException(nameof(index));
        return SealCore(header, op, keyring, DeltaCodec.TreeFormatVersion, DeltaTree.ProofSize(depth) + Signing.SignatureSize, depth, index);
    }

    private static SealedDelta SealCore(DeltaHeader header, DeltaOp op, EpochKeyring keyring, byte version, int tailLength, int depth, int index)
    {
        if (op.Kind != header.Kind) throw new ArgumentException("header kind does not match the operation", nameof(op));
        var cipher = keyring.CipherFor(header.Epoch, header.Device)
                     ?? throw new InvalidOperationException("no key for the header's epoch");
        // File content is most of the bytes a workspace seals: a chunk is encoded straight into the
        // delta's buffer and encrypted in place there (one copy of it instead of five; 100 MiB
        // stored spent ~250 ms of the author's CPU copying). Other operations are small.
        var small = op is StoreChunk ? null : OpCodec.Encode(op);
        var plaintextLength = small?.Length ?? OpCodec.EncodedSize((StoreChunk)op);
        if (plaintextLength > DeltaCodec.MaxPayloadSize) throw new ArgumentException("operation too large for one delta", nameof(op));

        var head = new WireWriter(256);
        DeltaCodec.WriteHeader(head, header, version);
        var headerEnd = head.Length;
        Span<byte> nonce = stackalloc byte[DeltaCodec.NonceSize];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, header.Seq);
        RandomNumberGenerator.Fill(nonce[8..]);
        head.Raw(nonce);
        var ctLength = plaintextLength + DeltaCodec.TagSize;
        head.VarUInt((ulong)ctLength);
        var ctStart = head.Length;
        var proofStart = ctStart + ctLength;
        if (proofStart + tailLength > DeltaCodec.MaxDeltaSize) throw new ArgumentException("operation too large for one delta", nameof(op));
        var bytes = new byte[proofStart + tailLength];
        head.WrittenSpan.CopyTo(bytes);

        var ct = bytes.AsSpan(ctStart, plaintextLength);
        if (small is null) OpCodec.Encode((StoreChunk)op, ct);
        else
        {
            small.CopyTo(ct);
            CryptographicOperations.ZeroMemory(small);
        }
        var tag = bytes.AsSpan(ctStart + plaintextLength, DeltaCodec.TagSize);
        // In place: the plaintext written there is overwritten by its ciphertext.
        cipher.Encrypt(nonce, ct, ct, tag, bytes.AsSpan(0, headerEnd));
        if (depth > 0)
        {
            bytes[proofStart] = (byte)depth;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(proofStart + 1), (ushort)index);
        }
        return new SealedDelta(header, bytes, headerEnd, ctStart, ctLength, proofStart);
    }

    /// <summary>Whether the device key signed this delta: its own bytes (format 1), or the root its proof leads to (format 2).</summary>
    public static bool VerifySignature(SealedDelta delta, PublicKey deviceKey) => VerifySignature(delta, deviceKey, verified: null);

    /// <summary>
    /// As <see cref="VerifySignature(SealedDelta, PublicKey)"/>; a tree root already verified with
    /// the same key and signature (another delta of the same tree) is found in
    /// <paramref name="verified"/> instead of being verified again.
    /// </summary>
    public static bool VerifySignature(SealedDelta delta, PublicKey deviceKey, VerifiedRoots? verified)
    {
        if (!delta.InTree) return Signing.Verify(deviceKey, delta.SignedPart, delta.Signature);
        Span<byte> root = stackalloc byte[DeltaTree.HashSize];
        RootOf(delta, root);
        if (verified is not null && verified.Contains(root, delta.Depth, deviceKey, delta.Signature)) return true;
        if (!VerifyRoot(delta, root, deviceKey)) return false;
        verified?.Add(root, delta.Depth, deviceKey, delta.Signature);
        return true;
    }

    /// <summary>Whether the device key signed <paramref name="root"/> (from <see cref="RootOf"/>) as the root of the tree of a format-2 delta.</summary>
    internal static bool VerifyRoot(SealedDelta delta, ReadOnlySpan<byte> root, PublicKey deviceKey)
    {
        Span<byte> message = stackalloc byte[DeltaTree.SignedMessageSize];
        DeltaTree.SignedMessage(delta.Depth, root, message);
        return Signing.Verify(deviceKey, message, delta.Signature);
    }

    /// <summary>The root of the tree a format-2 delta claims to belong to.</summary>
    internal static void RootOf(SealedDelta delta, Span<byte> root)
    {
        DeltaTree.Root(delta.LeafHash, delta.Proof, root);
    }

    /// <summary>Decrypts and decodes the payload of a delta whose signature was already checked.</summary>
    public static OpenFailure TryDecrypt(SealedDelta delta, EpochKeyring keyring, out DeltaOp? op)
    {
        op = null;
        var cipher = keyring.CipherFor(delta.Header.Epoch, delta.Header.Device);
        if (cipher is null) return OpenFailure.NoKeyForEpoch;
        var ctLength = delta.CiphertextLength - DeltaCodec.TagSize;
        // Pooled: the operation copies out what it keeps, and a file chunk's plaintext (64 KiB and
        // up, the large-object heap) was one more array per received chunk for the GC to sweep.
        var rented = ArrayPool<byte>.Shared.Rent(ctLength);
        var plaintext = rented.AsSpan(0, ctLength);
        try
        {
            try
            {
                cipher.Decrypt(delta.Nonce, delta.Ciphertext[..ctLength], delta.Ciphertext[ctLength..], plaintext, delta.AssociatedData);
            }
            catch (AuthenticationTagMismatchException)
            {
                return OpenFailure.DecryptionFailed;
            }
            try
            {
                op = OpCodec.Decode(plaintext);
            }
            catch (WireFormatException)
            {
                return OpenFailure.MalformedPayload;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            ArrayPool<byte>.Shared.Return(rented);
        }
        return op.Kind == delta.Header.Kind ? OpenFailure.None : OpenFailure.KindMismatch;
    }
}

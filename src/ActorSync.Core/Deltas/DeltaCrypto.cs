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
    public static SealedDelta Seal(DeltaHeader header, DeltaOp op, EpochKeyring keyring, SigningKeyPair deviceKey)
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
        DeltaCodec.WriteHeader(head, header);
        var headerEnd = head.Length;
        Span<byte> nonce = stackalloc byte[DeltaCodec.NonceSize];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, header.Seq);
        RandomNumberGenerator.Fill(nonce[8..]);
        head.Raw(nonce);
        var ctLength = plaintextLength + DeltaCodec.TagSize;
        head.VarUInt((ulong)ctLength);
        var ctStart = head.Length;
        var bytes = new byte[ctStart + ctLength + Signing.SignatureSize];
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
        deviceKey.Sign(bytes.AsSpan(0, bytes.Length - Signing.SignatureSize), bytes.AsSpan(bytes.Length - Signing.SignatureSize));
        return new SealedDelta(header, bytes, headerEnd, ctStart, ctLength);
    }

    public static bool VerifySignature(SealedDelta delta, PublicKey deviceKey) =>
        Signing.Verify(deviceKey, delta.SignedPart, delta.Signature);

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

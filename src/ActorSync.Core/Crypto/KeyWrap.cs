using System.Security.Cryptography;
using ActorSync.Core.Encoding;
using NSec.Cryptography;

namespace ActorSync.Core.Crypto;

/// <summary>
/// Seals a secret for one recipient's X25519 key: an ephemeral X25519 agreement, HKDF-SHA256 over
/// the shared secret (salted with both public keys, bound to a context string), then AES-256-GCM.
/// A fresh ephemeral key per wrap means the derived key is used once, so a zero nonce is safe.
/// Layout: ephemeral public key (32) | ciphertext | tag (16).
/// </summary>
public static class KeyWrap
{
    private const int TagSize = 16;
    public const int Overhead = AgreementKeyPair.PublicKeySize + TagSize;
    public const int MaxSecretSize = 64 * 1024;

    public static byte[] Wrap(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> recipientPublicKey, string context)
    {
        if (secret.Length > MaxSecretSize) throw new ArgumentException("secret too large", nameof(secret));
        if (!PublicKey.TryImport(AgreementKeyPair.Algorithm, recipientPublicKey, KeyBlobFormat.RawPublicKey, out var recipient) || recipient is null)
            throw new ArgumentException("not an X25519 public key", nameof(recipientPublicKey));
        using var ephemeral = Key.Create(AgreementKeyPair.Algorithm);
        var ephemeralPublic = ephemeral.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        var output = new byte[Overhead + secret.Length];
        ephemeralPublic.CopyTo(output, 0);
        using var shared = AgreementKeyPair.Algorithm.Agree(ephemeral, recipient)
            ?? throw new ArgumentException("degenerate X25519 public key", nameof(recipientPublicKey));
        Span<byte> key = stackalloc byte[32];
        Derive(shared, ephemeralPublic, recipientPublicKey, context, key);
        using var aes = new AesGcm(key, TagSize);
        Span<byte> nonce = stackalloc byte[12];
        aes.Encrypt(nonce, secret, output.AsSpan(AgreementKeyPair.PublicKeySize, secret.Length),
            output.AsSpan(AgreementKeyPair.PublicKeySize + secret.Length), System.Text.Encoding.UTF8.GetBytes(context));
        CryptographicOperations.ZeroMemory(key);
        return output;
    }

    /// <summary>Opens a wrapped secret; <see cref="WireFormatException"/> on any mismatch, never the plaintext of someone else's key.</summary>
    public static byte[] Unwrap(ReadOnlySpan<byte> wrapped, AgreementKeyPair recipient, string context)
    {
        if (wrapped.Length < Overhead || wrapped.Length > Overhead + MaxSecretSize)
            throw new WireFormatException("wrapped key: bad length");
        var ephemeralPublic = wrapped[..AgreementKeyPair.PublicKeySize];
        if (!PublicKey.TryImport(AgreementKeyPair.Algorithm, ephemeralPublic, KeyBlobFormat.RawPublicKey, out var ephemeral) || ephemeral is null)
            throw new WireFormatException("wrapped key: bad ephemeral key");
        using var shared = AgreementKeyPair.Algorithm.Agree(recipient.Key, ephemeral)
            ?? throw new WireFormatException("wrapped key: degenerate ephemeral key");
        Span<byte> key = stackalloc byte[32];
        Derive(shared, ephemeralPublic, recipient.PublicKeyBytes, context, key);
        var secretLength = wrapped.Length - Overhead;
        var secret = new byte[secretLength];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            Span<byte> nonce = stackalloc byte[12];
            aes.Decrypt(nonce, wrapped.Slice(AgreementKeyPair.PublicKeySize, secretLength), wrapped[^TagSize..], secret,
                System.Text.Encoding.UTF8.GetBytes(context));
            return secret;
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new WireFormatException("wrapped key: not for this recipient, or tampered", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static void Derive(SharedSecret shared, ReadOnlySpan<byte> ephemeralPublic, ReadOnlySpan<byte> recipientPublic,
        string context, Span<byte> key)
    {
        Span<byte> salt = stackalloc byte[64];
        ephemeralPublic.CopyTo(salt);
        recipientPublic.CopyTo(salt[32..]);
        KeyDerivationAlgorithm.HkdfSha256.DeriveBytes(shared, salt, System.Text.Encoding.UTF8.GetBytes("actorsync/keywrap/" + context), key);
    }
}

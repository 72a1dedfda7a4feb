using NSec.Cryptography;

namespace ActorSync.Core.Crypto;

/// <summary>Ed25519 through NSec (libsodium): the one signature scheme for accounts, devices and deltas.</summary>
public static class Signing
{
    public const int PublicKeySize = 32;
    public const int SignatureSize = 64;
    internal static readonly SignatureAlgorithm Algorithm = SignatureAlgorithm.Ed25519;

    internal static KeyCreationParameters Exportable => new() { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };

    /// <summary>
    /// Parses a public key once so verification does not re-import it per delta; null when the
    /// bytes are not a valid Ed25519 point encoding.
    /// </summary>
    public static PublicKey? TryImportPublicKey(ReadOnlySpan<byte> raw) =>
        raw.Length == PublicKeySize && PublicKey.TryImport(Algorithm, raw, KeyBlobFormat.RawPublicKey, out var key) ? key : null;

    public static bool Verify(PublicKey key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == SignatureSize && Algorithm.Verify(key, data, signature);

    public static bool Verify(ReadOnlySpan<byte> rawPublicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        TryImportPublicKey(rawPublicKey) is { } key && Verify(key, data, signature);
}

using NSec.Cryptography;

namespace ActorSync.Core.Crypto;

/// <summary>An X25519 key pair: how others wrap workspace keys for an account.</summary>
public sealed class AgreementKeyPair : IDisposable
{
    internal static readonly KeyAgreementAlgorithm Algorithm = KeyAgreementAlgorithm.X25519;
    public const int PublicKeySize = 32;
    private readonly Key _key;

    private AgreementKeyPair(Key key)
    {
        _key = key;
        PublicKeyBytes = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    public byte[] PublicKeyBytes { get; }
    internal Key Key => _key;

    public static AgreementKeyPair Generate() => new(Key.Create(Algorithm, Signing.Exportable));

    public static AgreementKeyPair FromPrivate(ReadOnlySpan<byte> rawPrivateKey)
    {
        if (!Key.TryImport(Algorithm, rawPrivateKey, KeyBlobFormat.RawPrivateKey, out var key, Signing.Exportable) || key is null)
            throw new ArgumentException("not an X25519 private key", nameof(rawPrivateKey));
        return new AgreementKeyPair(key);
    }

    public byte[] ExportPrivate() => _key.Export(KeyBlobFormat.RawPrivateKey);

    public void Dispose() => _key.Dispose();
}

using ActorSync.Core.Identity;
using NSec.Cryptography;

namespace ActorSync.Core.Crypto;

/// <summary>An Ed25519 private key with its public half; the private bytes never leave except by <see cref="ExportPrivate"/>.</summary>
public sealed class SigningKeyPair : IDisposable
{
    private readonly Key _key;

    private SigningKeyPair(Key key)
    {
        _key = key;
        PublicKeyBytes = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        PublicKey = key.PublicKey;
        Fingerprint = Fingerprint.Of(PublicKeyBytes);
    }

    public byte[] PublicKeyBytes { get; }
    public PublicKey PublicKey { get; }
    public Fingerprint Fingerprint { get; }

    public static SigningKeyPair Generate() => new(Key.Create(Signing.Algorithm, Signing.Exportable));

    public static SigningKeyPair FromPrivate(ReadOnlySpan<byte> rawPrivateKey)
    {
        if (!Key.TryImport(Signing.Algorithm, rawPrivateKey, KeyBlobFormat.RawPrivateKey, out var key, Signing.Exportable) || key is null)
            throw new ArgumentException("not an Ed25519 private key", nameof(rawPrivateKey));
        return new SigningKeyPair(key);
    }

    public byte[] ExportPrivate() => _key.Export(KeyBlobFormat.RawPrivateKey);

    public byte[] Sign(ReadOnlySpan<byte> data) => Signing.Algorithm.Sign(_key, data);

    public void Sign(ReadOnlySpan<byte> data, Span<byte> signature) => Signing.Algorithm.Sign(_key, data, signature);

    public void Dispose() => _key.Dispose();
}

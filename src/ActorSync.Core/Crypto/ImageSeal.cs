using System.Security.Cryptography;
using ActorSync.Core.Encoding;

namespace ActorSync.Core.Crypto;

/// <summary>
/// Seals a replica image (decrypted workspace state) for one account: a fresh AES-256-GCM key
/// wrapped for the account's key-agreement key (<see cref="KeyWrap"/>), bound to a context string.
/// A snapshot is sealed for the device's own account, so nothing is in clear at rest; an image for
/// an invitee is sealed for the invitee's, so the relay that carries it reads nothing.
/// Layout: wrapped key (length-prefixed) | nonce (12) | ciphertext | tag (16).
/// </summary>
public static class ImageSeal
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    public static byte[] Seal(ReadOnlySpan<byte> image, ReadOnlySpan<byte> recipientAgreementKey, string context)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        try
        {
            var wrapped = KeyWrap.Wrap(key, recipientAgreementKey, context);
            var w = new WireWriter(wrapped.Length + image.Length + 64);
            w.Bytes(wrapped);
            var nonce = RandomNumberGenerator.GetBytes(NonceSize);
            w.Raw(nonce);
            var output = new byte[image.Length + TagSize];
            using var aes = new AesGcm(key, TagSize);
            aes.Encrypt(nonce, image, output.AsSpan(0, image.Length), output.AsSpan(image.Length), System.Text.Encoding.UTF8.GetBytes(context));
            w.Raw(output);
            return w.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The image; <see cref="WireFormatException"/> when it is not sealed for this account and context, or was altered.</summary>
    public static byte[] Open(ReadOnlySpan<byte> sealedImage, AgreementKeyPair recipient, string context)
    {
        var r = new WireReader(sealedImage);
        var key = KeyWrap.Unwrap(r.Bytes(KeyWrap.Overhead + 64, "image key"), recipient, context);
        try
        {
            // Anyone may wrap a key for this account: one that is not an AES-256 key is refused like any damage.
            if (key.Length != 32) throw new WireFormatException("image: its key is not 32 bytes");
            var nonce = r.Raw(NonceSize, "image nonce");
            if (r.Remaining < TagSize) throw new WireFormatException("image: shorter than its tag");
            var body = r.Raw(r.Remaining, "image");
            var image = new byte[body.Length - TagSize];
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(nonce, body[..^TagSize], body[^TagSize..], image, System.Text.Encoding.UTF8.GetBytes(context));
            return image;
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new WireFormatException("image: does not open (altered, or sealed for someone else)");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Core.Identity;

namespace ActorSync.Peer.Links;

/// <summary>
/// This device's TLS identity on direct links: a self-signed ECDSA P-256 certificate whose public
/// key is pinned by SHA-256 of its SubjectPublicKeyInfo on the device's contact card. Names, dates
/// and chains mean nothing here; only the key counts, so the certificate never needs renewing.
/// </summary>
public sealed class DeviceCertificate : IDisposable
{
    /// <summary>The file under the peer's home that holds the certificate and its private key.</summary>
    public const string FileName = "device-tls.pfx";

    /// <summary>Length of a pin: SHA-256.</summary>
    public const int PinSize = 32;

    private DeviceCertificate(X509Certificate2 certificate)
    {
        if (!certificate.HasPrivateKey) throw new ArgumentException("a device certificate needs its private key", nameof(certificate));
        Certificate = certificate;
        Pin = PinOf(certificate);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>SHA-256 of the certificate's SubjectPublicKeyInfo: what contact cards carry and peers pin.</summary>
    public byte[] Pin { get; }

    public static DeviceCertificate Create(DeviceId device, TimeProvider? time = null)
    {
        var now = (time ?? TimeProvider.System).GetUtcNow();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=actorsync-device-{device.Short}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        // Kestrel refuses a server certificate whose EKU list lacks serverAuth, and the same
        // certificate is the client certificate when this device dials.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform
        // (an in-memory key from CreateSelfSigned is not, on Windows).
        return new DeviceCertificate(LoadPkcs12(created.Export(X509ContentType.Pkcs12)));
    }

    /// <summary>Loads the certificate from <paramref name="folder"/>, creating and saving a new one the first time.</summary>
    public static DeviceCertificate LoadOrCreate(string folder, DeviceId device, TimeProvider? time = null)
    {
        if (File.Exists(Path.Combine(folder, FileName))) return Load(folder);
        var created = Create(device, time);
        created.Save(folder);
        return created;
    }

    public static DeviceCertificate Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        try
        {
            return new DeviceCertificate(LoadPkcs12(File.ReadAllBytes(path)));
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"{path} is not a readable device certificate", e);
        }
    }

    /// <summary>Writes the certificate with its private key, readable by the owner only (mode 0600 on Unix).</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        // A stale temporary file keeps its old mode: start from a fresh one.
        File.Delete(temporary);
        var bytes = Certificate.Export(X509ContentType.Pkcs12);
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            // Replace in one step so a crash never leaves a half-written key behind.
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>The pin of any certificate: SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static byte[] PinOf(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate is X509Certificate2 c2) return SHA256.HashData(c2.PublicKey.ExportSubjectPublicKeyInfo());
        using var converted = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return SHA256.HashData(converted.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Compares pins in constant time; a null or wrong-length pin never matches.</summary>
    public static bool PinsEqual(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
        a.Length == PinSize && b.Length == PinSize && CryptographicOperations.FixedTimeEquals(a, b);

    /// <summary>A pin as lowercase hex, for messages and logs (a pin is public, never a secret).</summary>
    public static string PinText(ReadOnlySpan<byte> pin) => Convert.ToHexStringLower(pin);

    public void Dispose() => Certificate.Dispose();

    private static X509Certificate2 LoadPkcs12(byte[] bytes)
    {
        // Ephemeral keys keep the private key out of the user's key store; only Linux supports
        // them for TLS (Windows SslStream and macOS refuse them).
        var flags = OperatingSystem.IsLinux() ? X509KeyStorageFlags.EphemeralKeySet : X509KeyStorageFlags.DefaultKeySet;
        return X509CertificateLoader.LoadPkcs12(bytes, password: null, flags);
    }
}

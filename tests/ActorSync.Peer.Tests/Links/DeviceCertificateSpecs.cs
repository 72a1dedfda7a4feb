using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using ActorSync.Peer.Links;
using Xunit;

namespace ActorSync.Peer.Tests.Links;

public sealed class DeviceCertificateSpecs : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("actorsync-cert-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void DeviceCertificate_should_be_a_self_signed_p256_key_pinned_by_its_spki_hash()
    {
        using var certificate = DeviceCertificate.Create(LinkTestDevice.NewDeviceId());

        Assert.True(certificate.Certificate.HasPrivateKey);
        using var key = certificate.Certificate.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.Equal(certificate.Certificate.Subject, certificate.Certificate.Issuer);
        var expected = SHA256.HashData(certificate.Certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(expected, certificate.Pin);
        Assert.Equal(expected, DeviceCertificate.PinOf(certificate.Certificate));
    }

    [Fact]
    public void DeviceCertificate_should_give_each_device_its_own_key()
    {
        using var a = DeviceCertificate.Create(LinkTestDevice.NewDeviceId());
        using var b = DeviceCertificate.Create(LinkTestDevice.NewDeviceId());
        Assert.NotEqual(a.Pin, b.Pin);
        Assert.False(DeviceCertificate.PinsEqual(a.Pin, b.Pin));
        Assert.True(DeviceCertificate.PinsEqual(a.Pin, (byte[])a.Pin.Clone()));
        Assert.False(DeviceCertificate.PinsEqual(a.Pin, a.Pin.AsSpan(1)));
    }

    [Fact]
    public void DeviceCertificate_should_survive_save_and_load_with_its_private_key()
    {
        using var created = DeviceCertificate.Create(LinkTestDevice.NewDeviceId());
        created.Save(_folder);
        using var loaded = DeviceCertificate.Load(_folder);

        Assert.Equal(created.Pin, loaded.Pin);
        Assert.True(loaded.Certificate.HasPrivateKey);
        using var signer = loaded.Certificate.GetECDsaPrivateKey()!;
        using var verifier = created.Certificate.GetECDsaPublicKey()!;
        var data = "proof of possession"u8.ToArray();
        Assert.True(verifier.VerifyData(data, signer.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void DeviceCertificate_should_be_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows()) return;
        using var created = DeviceCertificate.Create(LinkTestDevice.NewDeviceId());
        created.Save(_folder);
        // Saving again replaces the file and keeps the mode.
        created.Save(_folder);

        var mode = File.GetUnixFileMode(Path.Combine(_folder, DeviceCertificate.FileName));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void DeviceCertificate_should_be_created_once_and_then_loaded()
    {
        var device = LinkTestDevice.NewDeviceId();
        using var first = DeviceCertificate.LoadOrCreate(_folder, device);
        using var second = DeviceCertificate.LoadOrCreate(_folder, device);
        Assert.Equal(first.Pin, second.Pin);
    }

    [Fact]
    public void DeviceCertificate_should_refuse_a_damaged_file_with_a_clear_error()
    {
        File.WriteAllBytes(Path.Combine(_folder, DeviceCertificate.FileName), [1, 2, 3, 4]);
        var error = Assert.Throws<InvalidDataException>(() => DeviceCertificate.Load(_folder));
        Assert.Contains(DeviceCertificate.FileName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceCertificate_should_pin_a_certificate_seen_only_as_its_public_part()
    {
        using var certificate = DeviceCertificate.Create(LinkTestDevice.NewDeviceId());
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.Certificate.RawData);
        Assert.False(publicOnly.HasPrivateKey);
        Assert.Equal(certificate.Pin, DeviceCertificate.PinOf(publicOnly));
    }
}

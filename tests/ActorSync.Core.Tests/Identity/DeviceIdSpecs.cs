using ActorSync.Core.Identity;
using ActorSync.Core.Tests.Encoding;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Identity;

/// <summary>Device ids share the account id's text form: round trip, and a typo caught by the check characters.</summary>
public class DeviceIdSpecs
{
    [Fact]
    public void DeviceId_should_round_trip_through_text() =>
        WireGen.Device.Sample(id =>
        {
            var text = id.ToString();
            Assert.Equal(39, text.Length);
            Assert.Equal(id, DeviceId.Parse(text));
            Assert.Equal(id, DeviceId.Parse(text.ToLowerInvariant()));
            Assert.Equal(text[..8], id.Short);
        }, iter: 1000);

    [Fact]
    public void DeviceId_should_catch_any_single_changed_character() =>
        Gen.Select(WireGen.Device, FingerprintText.Typo).Sample((id, typo) =>
        {
            var mistyped = FingerprintText.WithTypo(id.ToString(), typo.Position, typo.Replacement);
            if (mistyped is null) return;
            Assert.False(DeviceId.TryParse(mistyped, out _), $"{mistyped} was accepted for {id}");
            Assert.Throws<FormatException>(() => DeviceId.Parse(mistyped));
        }, iter: 5000);

    [Fact]
    public void DeviceId_should_be_the_fingerprint_of_the_device_key()
    {
        using var device = DeviceIdentity.Generate();
        Assert.Equal(DeviceId.FromSigningKey(device.Signing.PublicKeyBytes), device.Id);
    }
}

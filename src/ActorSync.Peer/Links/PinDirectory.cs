using ActorSync.Core.Identity;

namespace ActorSync.Peer.Links;

/// <summary>
/// The TLS pins of the devices this peer accepts links from and dials, kept up to date by the
/// actors that learn contact cards and memberships. Kestrel's handshake and call threads read it
/// concurrently, so every operation takes one lock (reads are one per link, never per frame).
/// </summary>
public sealed class PinDirectory : IPinDirectory
{
    private readonly Lock _gate = new();
    private readonly Dictionary<DeviceId, byte[]> _byDevice = [];
    private readonly Dictionary<string, DeviceId> _byPin = new(StringComparer.Ordinal);

    public int Count
    {
        get { lock (_gate) return _byDevice.Count; }
    }

    /// <summary>
    /// Pins <paramref name="device"/> to <paramref name="pin"/>, replacing its previous pin. Returns
    /// false, and changes nothing, when another device already holds that pin: a card that claims
    /// someone else's TLS key must not be able to take over that key's inbound links.
    /// </summary>
    public bool Add(DeviceId device, byte[] pin)
    {
        ArgumentNullException.ThrowIfNull(pin);
        if (pin.Length != DeviceCertificate.PinSize)
            throw new ArgumentException($"a TLS pin is {DeviceCertificate.PinSize} bytes", nameof(pin));
        var key = Key(pin);
        lock (_gate)
        {
            if (_byPin.TryGetValue(key, out var holder) && holder != device) return false;
            if (_byDevice.TryGetValue(device, out var previous)) _byPin.Remove(Key(previous));
            _byDevice[device] = (byte[])pin.Clone();
            _byPin[key] = device;
            return true;
        }
    }

    /// <summary>Forgets a device (uninvited, contact removed); links it opens afterwards are refused.</summary>
    public bool Remove(DeviceId device)
    {
        lock (_gate)
        {
            if (!_byDevice.Remove(device, out var pin)) return false;
            _byPin.Remove(Key(pin));
            return true;
        }
    }

    public DeviceId? DeviceForPin(ReadOnlySpan<byte> spkiSha256)
    {
        if (spkiSha256.Length != DeviceCertificate.PinSize) return null;
        var key = Key(spkiSha256);
        lock (_gate) return _byPin.TryGetValue(key, out var device) ? device : null;
    }

    public byte[]? PinForDevice(DeviceId device)
    {
        lock (_gate) return _byDevice.TryGetValue(device, out var pin) ? (byte[])pin.Clone() : null;
    }

    private static string Key(ReadOnlySpan<byte> pin) => Convert.ToHexString(pin);
}

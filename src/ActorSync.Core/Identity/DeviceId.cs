namespace ActorSync.Core.Identity;

/// <summary>A device of an account: the fingerprint of the device's own Ed25519 public key.</summary>
public readonly record struct DeviceId(Fingerprint Value) : IComparable<DeviceId>
{
    public static DeviceId FromSigningKey(ReadOnlySpan<byte> publicKey) => new(Fingerprint.Of(publicKey));
    public static bool TryParse(string? text, out DeviceId id)
    {
        var ok = Fingerprint.TryParse(text, out var f);
        id = new DeviceId(f);
        return ok;
    }
    public static DeviceId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException("not a device id (check the characters)");
    public int CompareTo(DeviceId other) => Value.CompareTo(other.Value);
    public string Short => Value.Short;
    public override string ToString() => Value.ToString();
}

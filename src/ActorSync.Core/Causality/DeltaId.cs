using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Causality;

/// <summary>
/// A delta's identity: its author device and that device's sequence number (1, 2, ...). Entries a
/// delta creates are keyed by it; version vectors summarise sets of them.
/// </summary>
public readonly record struct DeltaId(DeviceId Device, ulong Seq) : IComparable<DeltaId>
{
    public int CompareTo(DeltaId other)
    {
        var c = Device.CompareTo(other.Device);
        return c != 0 ? c : Seq.CompareTo(other.Seq);
    }

    public void Write(WireWriter w)
    {
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        Device.Value.WriteTo(raw);
        w.Raw(raw);
        w.VarUInt(Seq);
    }

    public static DeltaId Read(ref WireReader r)
    {
        var device = new DeviceId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "delta id")));
        var seq = r.VarUInt("delta seq");
        if (seq == 0) throw new WireFormatException("delta seq: sequence numbers start at 1");
        return new DeltaId(device, seq);
    }

    /// <summary>Compact text for listings and CLI arguments: base32 device fingerprint, '.', sequence.</summary>
    public override string ToString() => Base32.Encode(Device.Value.ToBytes()).ToLowerInvariant() + "." + Seq;

    public static bool TryParse(string? text, out DeltaId id)
    {
        id = default;
        if (text is null) return false;
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !Base32.TryDecode(text.AsSpan(0, dot), Fingerprint.Size, out var raw)) return false;
        if (!ulong.TryParse(text.AsSpan(dot + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seq) || seq == 0)
            return false;
        id = new DeltaId(new DeviceId(Fingerprint.FromBytes(raw)), seq);
        return true;
    }
}

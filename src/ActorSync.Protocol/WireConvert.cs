using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Wire;
using Google.Protobuf;

namespace ActorSync.Protocol;

/// <summary>Between core values and their protobuf form; every parse of network input fails with <see cref="WireFormatException"/>.</summary>
public static class WireConvert
{
    public static ByteString ToWire(this WorkspaceId id) => ByteString.CopyFrom(id.ToBytes());

    /// <summary>
    /// A parsed bytes field as an array, without copying when the ByteString owns an array of exactly
    /// its length (what parsing gives): a received delta's bytes are kept as they came, and copying
    /// every one again cost a pass over all received file content. ByteStrings are immutable, and
    /// so are the arrays made from them.
    /// </summary>
    public static byte[] ToArrayShared(this ByteString bytes) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(bytes.Memory, out var segment)
        && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToByteArray();

    public static WorkspaceId ToWorkspaceId(this ByteString bytes) =>
        bytes.Length == WorkspaceId.Size ? WorkspaceId.FromBytes(bytes.Span) : throw new WireFormatException("workspace id: 16 bytes expected");

    public static ByteString ToWire(this DeviceId id) => ByteString.CopyFrom(id.Value.ToBytes());

    public static DeviceId ToDeviceId(this ByteString bytes) =>
        bytes.Length == Fingerprint.Size ? new DeviceId(Fingerprint.FromBytes(bytes.Span)) : throw new WireFormatException("device id: 20 bytes expected");

    public static VersionVectorMsg ToWire(this VersionVector vv)
    {
        var msg = new VersionVectorMsg();
        foreach (var (device, seq) in vv.Entries) msg.Entries.Add(new VectorEntry { Device = device.ToWire(), Seq = seq });
        return msg;
    }

    public static VersionVector ToVersionVector(this VersionVectorMsg? msg)
    {
        if (msg is null) return VersionVector.Empty;
        if (msg.Entries.Count > VersionVector.MaxEntries) throw new WireFormatException("version vector: too many entries");
        var entries = new Dictionary<DeviceId, ulong>(msg.Entries.Count);
        foreach (var e in msg.Entries)
        {
            var device = e.Device.ToDeviceId();
            if (!entries.TryAdd(device, e.Seq)) throw new WireFormatException("version vector: a device appears twice");
        }
        return VersionVector.From(entries);
    }
}

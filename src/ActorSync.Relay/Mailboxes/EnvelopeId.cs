using System.Buffers.Binary;
using System.Globalization;
using ActorSync.Core.Encoding;
using Google.Protobuf;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// The id a sender gives one envelope (16 random bytes): the dedupe key within a recipient's
/// mailbox. A value type so the mailbox can index and remember ids without holding byte arrays.
/// </summary>
public readonly record struct EnvelopeId(UInt128 Value)
{
    public const int Size = 16;

    public static bool TryFrom(ByteString? bytes, out EnvelopeId id)
    {
        id = default;
        if (bytes is null || bytes.Length != Size) return false;
        id = new EnvelopeId(BinaryPrimitives.ReadUInt128BigEndian(bytes.Span));
        return true;
    }

    /// <summary>Parses network or journal input; anything but 16 bytes is a <see cref="WireFormatException"/>.</summary>
    public static EnvelopeId From(ByteString? bytes) =>
        TryFrom(bytes, out var id) ? id : throw new WireFormatException("message id: 16 bytes expected");

    public ByteString ToWire()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, Value);
        return ByteString.CopyFrom(bytes);
    }

    public override string ToString() => Value.ToString("x32", CultureInfo.InvariantCulture);
}

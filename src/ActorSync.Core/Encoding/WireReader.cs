using System.Buffers.Binary;
using System.Text;

namespace ActorSync.Core.Encoding;

/// <summary>
/// Reader over untrusted bytes. Every length is checked against the bytes that remain and against
/// a caller-given cap before anything is allocated; every failure is a <see cref="WireFormatException"/>.
/// </summary>
public ref struct WireReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public WireReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _data.Length - _position;
    public readonly bool AtEnd => _position == _data.Length;

    public readonly void ExpectEnd(string what)
    {
        if (!AtEnd) throw new WireFormatException($"{what}: {Remaining} unexpected trailing bytes");
    }

    public ReadOnlySpan<byte> Raw(int count, string what)
    {
        if (count < 0 || count > Remaining) throw new WireFormatException($"{what}: truncated");
        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }

    public byte Byte(string what) => Raw(1, what)[0];

    public bool Bool(string what) => Byte(what) switch
    {
        0 => false,
        1 => true,
        var b => throw new WireFormatException($"{what}: {b} is not a boolean"),
    };

    public ulong UInt64Fixed(string what) => BinaryPrimitives.ReadUInt64BigEndian(Raw(8, what));

    public ulong VarUInt(string what)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = Byte(what);
            if (shift == 63 && b > 1) throw new WireFormatException($"{what}: varint overflows 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                // Canonical form only: a trailing zero group would let two encodings mean one value.
                if (b == 0 && shift > 0) throw new WireFormatException($"{what}: non-canonical varint");
                return result;
            }
        }
        throw new WireFormatException($"{what}: varint too long");
    }

    public long VarInt(string what)
    {
        var raw = VarUInt(what);
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A count of items, capped so a hostile length cannot drive an allocation.</summary>
    public int Count(int max, string what)
    {
        var value = VarUInt(what);
        if (value > (ulong)max) throw new WireFormatException($"{what}: {value} exceeds the limit of {max}");
        return (int)value;
    }

    public ReadOnlySpan<byte> Bytes(int maxLength, string what)
    {
        var length = Count(maxLength, what);
        return Raw(length, what);
    }

    public string String(int maxBytes, string what)
    {
        var bytes = Bytes(maxBytes, what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new WireFormatException($"{what}: invalid UTF-8", e);
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace ActorSync.Core.Encoding;

/// <summary>
/// Append-only binary writer for ActorSync's canonical encodings (varints, length-prefixed bytes
/// and UTF-8 strings). Canonical matters: the same value always gives the same bytes, because the
/// bytes are signed, used as AEAD associated data and hashed into state hashes.
/// </summary>
public sealed class WireWriter
{
    private byte[] _buffer;
    private int _length;

    public WireWriter(int capacity = 256) => _buffer = new byte[Math.Max(16, capacity)];

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Reset() => _length = 0;

    /// <summary>Zeroes what was written (it held secrets or decrypted state) and empties the writer.</summary>
    public void Wipe()
    {
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_buffer.AsSpan(0, _length));
        _length = 0;
    }

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            var next = new byte[Math.Max(_buffer.Length * 2, _length + count)];
            _buffer.AsSpan(0, _length).CopyTo(next);
            _buffer = next;
        }
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void Byte(byte value) => Reserve(1)[0] = value;

    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    public void Raw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    public void UInt64Fixed(ulong value) => BinaryPrimitives.WriteUInt64BigEndian(Reserve(8), value);

    /// <summary>How many bytes <see cref="VarUInt"/> writes for this value.</summary>
    public static int VarUIntSize(ulong value)
    {
        var size = 1;
        for (; value >= 0x80; value >>= 7) size++;
        return size;
    }

    /// <summary>Writes a varint as <see cref="VarUInt"/> does, into a span; returns the bytes written.</summary>
    public static int WriteVarUInt(Span<byte> destination, ulong value)
    {
        var i = 0;
        for (; value >= 0x80; value >>= 7) destination[i++] = (byte)(value | 0x80);
        destination[i++] = (byte)value;
        return i;
    }

    public void VarUInt(ulong value)
    {
        while (value >= 0x80)
        {
            Byte((byte)(value | 0x80));
            value >>= 7;
        }
        Byte((byte)value);
    }

    /// <summary>Zig-zag signed varint, for times and sizes that may be negative.</summary>
    public void VarInt(long value) => VarUInt((ulong)((value << 1) ^ (value >> 63)));

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        VarUInt((ulong)bytes.Length);
        Raw(bytes);
    }

    public void String(string value)
    {
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var count = System.Text.Encoding.UTF8.GetBytes(value, rented);
            Bytes(rented.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}

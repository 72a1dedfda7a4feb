using System.Buffers.Binary;
using System.Security.Cryptography;
using ActorSync.Core.Encoding;

namespace ActorSync.Core.Identity;

/// <summary>
/// A workspace: 128 random bits, written as 26 lower-case base32 characters, which are safe as an
/// actor name, a file name and a persistence id.
/// </summary>
public readonly record struct WorkspaceId(ulong High, ulong Low)
{
    public const int Size = 16;

    public static WorkspaceId New()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        return FromBytes(bytes);
    }

    public static WorkspaceId FromBytes(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..Size]));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public static bool TryParse(string? text, out WorkspaceId id)
    {
        id = default;
        if (text is null || !Base32.TryDecode(text.Trim(), Size, out var bytes)) return false;
        id = FromBytes(bytes);
        return true;
    }

    public static WorkspaceId Parse(string text) =>
        TryParse(text, out var id) ? id : throw new FormatException("not a workspace id");

    public string PersistenceId => "ws-" + ToString();

    public override string ToString() => Base32.Encode(ToBytes()).ToLowerInvariant();
}

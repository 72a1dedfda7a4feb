using System.Buffers.Binary;
using System.Security.Cryptography;
using ActorSync.Core.Encoding;

namespace ActorSync.Core.Identity;

/// <summary>
/// 160 bits of SHA-256 over a public key: the raw form of account and device ids. Held as three
/// integers so ids compare and hash without allocating.
/// </summary>
public readonly record struct Fingerprint(ulong High, ulong Middle, uint Low) : IComparable<Fingerprint>
{
    public const int Size = 20;
    private const int Groups = 4;
    private const int GroupChars = 8;

    public static Fingerprint Of(ReadOnlySpan<byte> publicKey)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(publicKey, hash);
        return FromBytes(hash[..Size]);
    }

    public static Fingerprint FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException("a fingerprint is 20 bytes", nameof(bytes));
        return new Fingerprint(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Middle);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], Low);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public int CompareTo(Fingerprint other)
    {
        var c = High.CompareTo(other.High);
        if (c != 0) return c;
        c = Middle.CompareTo(other.Middle);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }

    /// <summary>
    /// Human-checkable text, like Syncthing's device ids: 32 base32 characters in four groups, each
    /// group followed by a Luhn mod 32 check character, so a mistyped character is caught.
    /// </summary>
    public override string ToString()
    {
        var plain = Base32.Encode(ToBytes());
        var text = new System.Text.StringBuilder(Groups * (GroupChars + 2));
        for (var g = 0; g < Groups; g++)
        {
            if (g > 0) text.Append('-');
            var group = plain.AsSpan(g * GroupChars, GroupChars);
            text.Append(group).Append(LuhnCheck(group));
        }
        return text.ToString();
    }

    /// <summary>The first group: enough to tell devices apart in logs and listings.</summary>
    public string Short => ToString()[..GroupChars];

    public static bool TryParse(string? text, out Fingerprint value)
    {
        value = default;
        if (text is null) return false;
        var compact = text.Trim().Replace("-", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        if (compact.Length != Groups * (GroupChars + 1)) return false;
        var plain = new char[Groups * GroupChars];
        for (var g = 0; g < Groups; g++)
        {
            var group = compact.AsSpan(g * (GroupChars + 1), GroupChars);
            if (char.ToUpperInvariant(compact[g * (GroupChars + 1) + GroupChars]) != LuhnCheck(group)) return false;
            group.CopyTo(plain.AsSpan(g * GroupChars));
        }
        if (!Base32.TryDecode(plain, Size, out var bytes)) return false;
        value = FromBytes(bytes);
        return true;
    }

    /// <summary>Luhn mod N over the base32 alphabet (the algorithm Syncthing uses for its check characters).</summary>
    private static char LuhnCheck(ReadOnlySpan<char> group)
    {
        const int n = 32;
        int factor = 1, sum = 0;
        foreach (var c in group)
        {
            var codePoint = Base32.ValueOf(c);
            if (codePoint < 0) return '?';
            var addend = factor * codePoint;
            factor = factor == 2 ? 1 : 2;
            sum += addend / n + addend % n;
        }
        var remainder = sum % n;
        return Base32.Alphabet[(n - remainder) % n];
    }
}

namespace ActorSync.Core.Encoding;

/// <summary>RFC 4648 base32 without padding (A-Z, 2-7): case-insensitive, no look-alike digits 0, 1, 8, 9.</summary>
public static class Base32
{
    public const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var chars = new char[(data.Length * 8 + 4) / 5];
        int buffer = 0, bits = 0, index = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[index++] = Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }
        if (bits > 0) chars[index++] = Alphabet[(buffer << (5 - bits)) & 31];
        return new string(chars, 0, index);
    }

    public static int ValueOf(char c)
    {
        c = char.ToUpperInvariant(c);
        if (c is >= 'A' and <= 'Z') return c - 'A';
        if (c is >= '2' and <= '7') return c - '2' + 26;
        return -1;
    }

    /// <summary>Decodes exactly <paramref name="byteCount"/> bytes; false on any bad character or length.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, int byteCount, out byte[] bytes)
    {
        bytes = [];
        if (text.Length != (byteCount * 8 + 4) / 5) return false;
        var result = new byte[byteCount];
        int buffer = 0, bits = 0, index = 0;
        foreach (var c in text)
        {
            var v = ValueOf(c);
            if (v < 0) return false;
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8)
            {
                if (index == byteCount) return false;
                result[index++] = (byte)(buffer >> (bits - 8));
                bits -= 8;
            }
            buffer &= (1 << bits) - 1;
        }
        // Leftover padding bits must be zero, so every id has exactly one spelling.
        if (index != byteCount || buffer != 0) return false;
        bytes = result;
        return true;
    }
}

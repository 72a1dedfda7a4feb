using ActorSync.Core.Encoding;
using CsCheck;

namespace ActorSync.Core.Tests.Identity;

/// <summary>
/// Single-character typos of an account or device id's text form: one of the 36 significant
/// characters (32 data, 4 check) replaced by another character, which may or may not be base32.
/// </summary>
public static class FingerprintText
{
    /// <summary>Characters a typo may produce: the base32 alphabet in both cases, and the look-alike digits it leaves out.</summary>
    public const string TypoCharacters = Base32.Alphabet + "abcdefghijklmnopqrstuvwxyz" + "0189";

    public static readonly Gen<(int Position, char Replacement)> Typo =
        Gen.Select(Gen.Int[0, 35], Gen.Char[TypoCharacters]);

    /// <summary>The text with its significant character <paramref name="position"/> (dashes not counted) replaced; null if that is no change.</summary>
    public static string? WithTypo(string text, int position, char replacement)
    {
        var index = position + position / 9; // a dash after every 9 characters
        if (char.ToUpperInvariant(text[index]) == char.ToUpperInvariant(replacement)) return null;
        return string.Concat(text.AsSpan(0, index), replacement.ToString(), text.AsSpan(index + 1));
    }
}

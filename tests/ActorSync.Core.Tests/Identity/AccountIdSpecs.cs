using System.Text.RegularExpressions;
using ActorSync.Core.Identity;
using ActorSync.Core.Tests.Encoding;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Identity;

/// <summary>Account ids: the text people read out, type and paste must round trip, and a typo must be caught.</summary>
public partial class AccountIdSpecs
{
    [GeneratedRegex("^([A-Z2-7]{9}-){3}[A-Z2-7]{9}$")]
    private static partial Regex TextForm();

    [Fact]
    public void AccountId_should_round_trip_through_text() =>
        WireGen.Account.Sample(id =>
        {
            var text = id.ToString();
            Assert.Matches(TextForm(), text);
            Assert.Equal(id, AccountId.Parse(text));
            // Case, dashes and surrounding spaces do not matter to a reader typing it in.
            Assert.Equal(id, AccountId.Parse(text.ToLowerInvariant()));
            Assert.Equal(id, AccountId.Parse(text.Replace("-", "", StringComparison.Ordinal)));
            Assert.Equal(id, AccountId.Parse("  " + text.Replace('-', ' ') + " "));
        }, iter: 1000);

    [Fact]
    public void AccountId_should_catch_any_single_changed_character() =>
        Gen.Select(WireGen.Account, FingerprintText.Typo).Sample((id, typo) =>
        {
            var mistyped = FingerprintText.WithTypo(id.ToString(), typo.Position, typo.Replacement);
            if (mistyped is null) return;
            Assert.False(AccountId.TryParse(mistyped, out _), $"{mistyped} was accepted for {id}");
            Assert.Throws<FormatException>(() => AccountId.Parse(mistyped));
        }, iter: 5000);

    [Fact]
    public void AccountId_should_catch_every_single_changed_character_of_one_id()
    {
        using var account = AccountIdentity.Generate("ann");
        var text = account.Id.ToString();
        for (var position = 0; position < 36; position++)
        foreach (var replacement in FingerprintText.TypoCharacters)
            if (FingerprintText.WithTypo(text, position, replacement) is { } mistyped)
                Assert.False(AccountId.TryParse(mistyped, out _), $"{mistyped} was accepted for {text}");
    }

    [Fact]
    public void AccountId_should_be_the_fingerprint_of_the_signing_key()
    {
        using var account = AccountIdentity.Generate("ann");
        Assert.Equal(AccountId.FromSigningKey(account.Signing.PublicKeyBytes), account.Id);
        using var other = AccountIdentity.Generate("ann");
        Assert.NotEqual(account.Id, other.Id);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("AAAAAAAAA-AAAAAAAAA-AAAAAAAAA")]
    [InlineData("AAAAAAAAA-AAAAAAAAA-AAAAAAAAA-AAAAAAAAA-A")]
    [InlineData("not an id at all")]
    public void AccountId_should_reject_text_of_the_wrong_shape(string? text)
    {
        Assert.False(AccountId.TryParse(text, out _));
        if (text is not null) Assert.Throws<FormatException>(() => AccountId.Parse(text));
    }
}

using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Identity;

/// <summary>
/// Contact cards: what people paste to each other. The text form round trips; the card is
/// self-signed, so any tampering is rejected; parsing is strict (no trailing bytes, no card
/// without a device), so one card has one encoding.
/// </summary>
public class ContactCardSpecs
{
    private static readonly Gen<string> Names =
        Gen.Select(Gen.Char["ABCxyz\u00e9\u4e2d"], Gen.Char["abc XYZ-'.\u00fc\u20ac"].Array[0, 30])
            .Select((first, rest) => first + new string(rest));

    private static readonly Gen<string> Relays =
        Gen.Select(Gen.Int[1, 65535], Gen.Char["abcdefghij.-"].Array[1, 20]).Select((port, host) => $"https://{new string(host)}:{port}");

    /// <summary>A card laid out by hand, exactly as <see cref="ContactCard.Create"/> does, with knobs to break one rule at a time.</summary>
    private static byte[] HandMadeCard(AccountIdentity account, IReadOnlyList<byte[]> devices, byte version = 1, string? name = null,
        byte[]? signedExtra = null, AccountIdentity? signer = null)
    {
        var w = new WireWriter();
        w.Byte(version);
        w.String(name ?? account.Name);
        w.Raw(account.Signing.PublicKeyBytes);
        w.Raw(account.Agreement.PublicKeyBytes);
        w.VarUInt((ulong)devices.Count);
        foreach (var d in devices)
        {
            w.Raw(d);
            w.Bytes([]); // no TLS pin
        }
        w.VarUInt(1);
        w.String("https://relay.example:7000");
        w.VarInt(1_700_000_000_000);
        if (signedExtra is not null) w.Raw(signedExtra);
        w.Raw((signer ?? account).Signing.Sign(w.WrittenSpan));
        return w.ToArray();
    }

    private static void AssertRejected(byte[] bytes, string why)
    {
        var e = Assert.Throws<WireFormatException>(() => ContactCard.Decode(bytes));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContactCard_should_round_trip_through_text() =>
        Gen.Select(Names, Gen.Int[1, 4], Relays.Array[0, 3], Gen.Long).Sample((name, deviceCount, relays, issuedAt) =>
        {
            using var account = AccountIdentity.Generate(name);
            var devices = Enumerable.Range(0, deviceCount).Select(_ => DeviceIdentity.Generate()).ToList();
            try
            {
                var card = ContactCard.Create(account, devices.Select(d => d.Signing.PublicKeyBytes), relays, issuedAt);
                var text = card.ToText();
                Assert.StartsWith(ContactCard.TextPrefix, text, StringComparison.Ordinal);
                Assert.Matches("^[A-Za-z0-9_-]+$", text[ContactCard.TextPrefix.Length..]);

                var parsed = ContactCard.Parse(text);
                Assert.Equal(card.Encoded, parsed.Encoded);
                Assert.Equal(account.Id, parsed.AccountId);
                Assert.Equal(name, parsed.Name);
                Assert.Equal(account.Signing.PublicKeyBytes, parsed.SigningPublicKey);
                Assert.Equal(account.Agreement.PublicKeyBytes, parsed.AgreementPublicKey);
                Assert.Equal(devices.Select(d => d.Id), parsed.Devices.Select(d => d.Id));
                Assert.All(devices, d => Assert.Equal(d.Signing.PublicKeyBytes, parsed.FindDevice(d.Id)!.PublicKey));
                Assert.Equal(relays, parsed.Relays);
                Assert.Equal(issuedAt, parsed.IssuedAtMillis);
                // Pasted with surrounding white space, as from a chat message.
                Assert.Equal(card.Encoded, ContactCard.Parse("\n  " + text + " \r\n").Encoded);
            }
            finally
            {
                devices.ForEach(d => d.Dispose());
            }
        }, iter: 300);

    [Fact]
    public void ContactCard_should_reject_every_single_bit_flipped_anywhere()
    {
        using var member = new Support.TestMember("ann");
        var encoded = member.Card.Encoded;
        for (var i = 0; i < encoded.Length; i++)
        for (var bit = 0; bit < 8; bit++)
        {
            var tampered = (byte[])encoded.Clone();
            tampered[i] ^= (byte)(1 << bit);
            Assert.Throws<WireFormatException>(() => ContactCard.Decode(tampered));
        }
    }

    [Fact]
    public void ContactCard_should_reject_any_changed_byte() =>
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Byte[1, 255]).Sample((position, delta) =>
        {
            using var member = new Support.TestMember("ann");
            var tampered = (byte[])member.Card.Encoded.Clone();
            tampered[position % tampered.Length] += delta;
            Assert.Throws<WireFormatException>(() => ContactCard.Decode(tampered));
        }, iter: 300);

    [Fact]
    public void ContactCard_should_reject_text_with_any_changed_character()
    {
        using var member = new Support.TestMember("ann");
        var text = member.Card.ToText();
        const string base64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (var i = ContactCard.TextPrefix.Length; i < text.Length; i++)
        foreach (var c in base64Url.Where(c => c != text[i]))
        {
            var tampered = string.Concat(text.AsSpan(0, i), c.ToString(), text.AsSpan(i + 1));
            try
            {
                var parsed = ContactCard.Parse(tampered);
                // Only the unused low bits of the last character can change without changing a byte.
                Assert.True(i == text.Length - 1 && parsed.Encoded.SequenceEqual(member.Card.Encoded), $"character {i} changed to '{c}' was accepted");
            }
            catch (WireFormatException)
            {
            }
        }
    }

    [Fact]
    public void ContactCard_should_reject_trailing_bytes()
    {
        using var member = new Support.TestMember("ann");
        var encoded = member.Card.Encoded;
        AssertRejected([.. encoded, 0], "trailing");
        AssertRejected([.. encoded, .. encoded[^64..]], "trailing");
        AssertRejected([.. encoded, .. encoded], "trailing");
        // Even when the extra bytes are signed along with the rest.
        var device = member.Device.Signing.PublicKeyBytes;
        Assert.Throws<WireFormatException>(() => ContactCard.Decode(HandMadeCard(member.Account, [device], signedExtra: [0, 0])));
        // And in text form.
        Assert.Throws<WireFormatException>(() => ContactCard.Parse(member.Card.ToText() + "AAAA"));
    }

    [Fact]
    public void ContactCard_should_reject_a_card_with_no_devices()
    {
        using var member = new Support.TestMember("ann");
        // The hand-made layout is the real one: with a device it decodes.
        var control = ContactCard.Decode(HandMadeCard(member.Account, [member.Device.Signing.PublicKeyBytes]));
        Assert.Equal(member.Id, control.AccountId);

        AssertRejected(HandMadeCard(member.Account, []), "no devices");
        Assert.Throws<WireFormatException>(() => ContactCard.Create(member.Account, Array.Empty<byte[]>(), ["https://relay.example:7000"], 1));
    }

    [Fact]
    public void ContactCard_should_reject_cards_that_break_a_rule_even_when_properly_signed()
    {
        using var member = new Support.TestMember("ann");
        using var other = new Support.TestMember("bob");
        var device = member.Device.Signing.PublicKeyBytes;
        var tooMany = Enumerable.Range(0, ContactCard.MaxDevices + 1).Select(_ => SigningKeyPair.Generate()).ToList();
        try
        {
            AssertRejected(HandMadeCard(member.Account, [.. tooMany.Select(k => k.PublicKeyBytes)]), "exceeds the limit");
        }
        finally
        {
            tooMany.ForEach(k => k.Dispose());
        }

        AssertRejected(HandMadeCard(member.Account, [device, device]), "duplicate device");
        AssertRejected(HandMadeCard(member.Account, [device], version: 2), "unknown version");
        AssertRejected(HandMadeCard(member.Account, [device], name: ""), "bad name");
        AssertRejected(HandMadeCard(member.Account, [device], name: "   "), "bad name");
        AssertRejected(HandMadeCard(member.Account, [device], name: "ann\u0007"), "bad name");
        AssertRejected(HandMadeCard(member.Account, [device], name: new string('a', ContactCard.MaxNameBytes + 1)), "exceeds the limit");
        // Someone else's signature over ann's keys: not ann's card.
        AssertRejected(HandMadeCard(member.Account, [device], signer: other.Account), "bad signature");
    }

    [Theory]
    [InlineData("")]
    [InlineData("card:AAAA")]
    [InlineData("actorsync-card:")]
    [InlineData("actorsync-card:!!!!")]
    [InlineData("actorsync-card:A")]
    public void ContactCard_should_reject_text_that_is_not_a_card(string text) =>
        Assert.Throws<WireFormatException>(() => ContactCard.Parse(text));
}

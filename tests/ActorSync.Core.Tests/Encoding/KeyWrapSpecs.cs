using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Encoding;

/// <summary>
/// Key wrapping (how epoch keys reach members): the recipient opens what was wrapped for it, in
/// the context it was wrapped for; anyone else, or any other context, gets a WireFormatException.
/// </summary>
public sealed class KeyWrapSpecs : IDisposable
{
    private readonly AgreementKeyPair _recipient = AgreementKeyPair.Generate();
    private readonly AgreementKeyPair _someoneElse = AgreementKeyPair.Generate();

    private static readonly Gen<string> Contexts = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789/-\u00e9"].Array[0, 40].Select(c => new string(c));

    public void Dispose()
    {
        _recipient.Dispose();
        _someoneElse.Dispose();
    }

    [Fact]
    public void KeyWrap_should_round_trip_for_its_recipient_and_context() =>
        Gen.Select(Gen.Byte.Array[0, 2048], Contexts).Sample((secret, context) =>
        {
            var wrapped = KeyWrap.Wrap(secret, _recipient.PublicKeyBytes, context);
            Assert.Equal(secret.Length + KeyWrap.Overhead, wrapped.Length);
            Assert.Equal(secret, KeyWrap.Unwrap(wrapped, _recipient, context));
        }, iter: 1000);

    [Fact]
    public void KeyWrap_should_fail_for_the_wrong_recipient() =>
        Gen.Select(Gen.Byte.Array[0, 256], Contexts).Sample((secret, context) =>
        {
            var wrapped = KeyWrap.Wrap(secret, _recipient.PublicKeyBytes, context);
            Assert.Throws<WireFormatException>(() => KeyWrap.Unwrap(wrapped, _someoneElse, context));
        }, iter: 1000);

    [Fact]
    public void KeyWrap_should_fail_in_the_wrong_context() =>
        Gen.Select(Gen.Byte.Array[0, 256], Contexts, Contexts).Sample((secret, context, other) =>
        {
            if (context == other) return;
            var wrapped = KeyWrap.Wrap(secret, _recipient.PublicKeyBytes, context);
            Assert.Throws<WireFormatException>(() => KeyWrap.Unwrap(wrapped, _recipient, other));
        }, iter: 1000);

    [Fact]
    public void KeyWrap_should_wrap_the_same_secret_differently_every_time()
    {
        var secret = EpochKeyring.NewKey();
        var first = KeyWrap.Wrap(secret, _recipient.PublicKeyBytes, "workspace/x");
        var second = KeyWrap.Wrap(secret, _recipient.PublicKeyBytes, "workspace/x");
        Assert.NotEqual(first, second);
        Assert.NotEqual(first.AsSpan(0, AgreementKeyPair.PublicKeySize).ToArray(), second.AsSpan(0, AgreementKeyPair.PublicKeySize).ToArray());
        // The secret is nowhere in the clear.
        Assert.Equal(-1, first.AsSpan().IndexOf(secret.AsSpan(0, 8)));
        Assert.Equal(secret, KeyWrap.Unwrap(second, _recipient, "workspace/x"));
    }

    [Fact]
    public void KeyWrap_should_reject_inputs_of_impossible_length()
    {
        Assert.Throws<WireFormatException>(() => KeyWrap.Unwrap(new byte[KeyWrap.Overhead - 1], _recipient, "c"));
        Assert.Throws<WireFormatException>(() => KeyWrap.Unwrap(new byte[KeyWrap.Overhead + KeyWrap.MaxSecretSize + 1], _recipient, "c"));
        Assert.Throws<ArgumentException>(() => KeyWrap.Wrap(new byte[KeyWrap.MaxSecretSize + 1], _recipient.PublicKeyBytes, "c"));
        Assert.Throws<ArgumentException>(() => KeyWrap.Wrap(new byte[32], new byte[31], "c"));
    }

    [Fact]
    public void KeyWrap_should_reject_a_degenerate_ephemeral_key()
    {
        // An all-zero ephemeral key is a low-order point: the agreement gives nothing secret.
        var wrapped = KeyWrap.Wrap(new byte[32], _recipient.PublicKeyBytes, "c");
        wrapped.AsSpan(0, AgreementKeyPair.PublicKeySize).Clear();
        Assert.Throws<WireFormatException>(() => KeyWrap.Unwrap(wrapped, _recipient, "c"));
    }
}

using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Encoding;

/// <summary>
/// ARCHITECTURE.md section 6, invariant 5 at the decoders: every decoder of untrusted bytes either
/// returns a value or throws <see cref="WireFormatException"/>, whatever it is fed: random bytes,
/// or valid encodings with flipped bits, cuts, insertions and length fields that claim too much.
/// Where a damaged input still decodes, the signature, the AEAD tag or the canonical form catches it.
/// </summary>
public class DecoderRobustnessSpecs : IClassFixture<EncodingSamples>
{
    private const int Iterations = 1000;
    private static readonly Gen<byte[]> RandomBytes = Gen.Byte.Array[0, 600];
    private readonly EncodingSamples _samples;

    public DecoderRobustnessSpecs(EncodingSamples samples) => _samples = samples;

    /// <summary>Runs a decoder; true when it accepted the input, false when it threw <see cref="WireFormatException"/>; fails on anything else.</summary>
    private static bool Accepts(Action decode)
    {
        try
        {
            decode();
            return true;
        }
        catch (WireFormatException)
        {
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"a decoder threw {e.GetType().Name} instead of WireFormatException: {e.Message}");
            return false;
        }
    }

    private Gen<(SealedDelta Delta, Mutation[] Mutations)> MutatedDeltas =>
        Gen.Select(Gen.Int[0, _samples.Deltas.Count - 1].Select(i => _samples.Deltas[i]), Mutation.Some);

    // ---- DeltaCodec -------------------------------------------------------------------------

    [Fact]
    public void DeltaCodec_should_decode_every_valid_delta_to_its_own_header_bytes()
    {
        Assert.True(_samples.Deltas.Select(d => d.Header.Kind).Distinct().Count() >= 10);
        foreach (var sample in _samples.Deltas)
        {
            var decoded = DeltaCodec.Decode(sample.Bytes);
            Assert.Equal(sample.Id, decoded.Id);
            AssertCanonicalHeader(decoded);
        }
    }

    [Fact]
    public void DeltaCodec_should_only_throw_WireFormatException_on_random_bytes() =>
        Gen.Select(Gen.Bool, RandomBytes).Sample((versioned, bytes) =>
        {
            // Half the inputs carry the right version byte, so the decoder gets past its first check.
            if (versioned && bytes.Length > 0) bytes[0] = DeltaCodec.FormatVersion;
            Accepts(() => DeltaCodec.Decode(bytes));
        }, iter: Iterations);

    [Fact]
    public void DeltaCodec_should_only_throw_WireFormatException_on_mutated_deltas() =>
        MutatedDeltas.Sample((delta, mutations) =>
        {
            var bytes = Mutation.ApplyAll(mutations, delta.Bytes);
            SealedDelta? decoded = null;
            if (Accepts(() => decoded = DeltaCodec.Decode(bytes))) AssertCanonicalHeader(decoded!);
        }, iter: Iterations, print: t => $"{t.Item1} <- {string.Join("; ", t.Item2.AsEnumerable())}");

    [Fact]
    public void DeltaCodec_should_reject_every_inflated_length_field()
    {
        foreach (var delta in _samples.Deltas)
        {
            var bytes = delta.Bytes;
            var r = new WireReader(bytes);
            r.Raw(1 + WorkspaceId.Size + EpochId.Size + 2 * Fingerprint.Size, "fixed header");
            r.VarUInt("seq");
            var dependencyCountAt = r.Position;
            var dependencies = r.VarUInt("dependencies");
            for (ulong i = 0; i < dependencies; i++) DeltaId.Read(ref r);
            r.UInt64Fixed("time");
            var toolLengthAt = r.Position;
            var ciphertextLengthAt = delta.HeaderEnd + DeltaCodec.NonceSize;
            foreach (var at in new[] { dependencyCountAt, toolLengthAt, ciphertextLengthAt })
            foreach (var claim in Mutation.InflatedClaims(bytes, at))
                Assert.Throws<WireFormatException>(() => DeltaCodec.Decode(Mutation.WithVarUIntAt(bytes, at, claim)));
        }
    }

    [Fact]
    public void DeltaCodec_should_reject_a_delta_larger_than_the_limit()
    {
        var oversized = new byte[DeltaCodec.MaxDeltaSize + 1];
        oversized[0] = DeltaCodec.FormatVersion;
        var e = Assert.Throws<WireFormatException>(() => DeltaCodec.Decode(oversized));
        Assert.Contains("exceeds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mutated_sealed_delta_should_fail_verification_and_never_open_to_a_different_operation()
    {
        var ann = _samples.Workspace.Member("ann");
        using var keyring = new EpochKeyring(_samples.Workspace["ann"].Id);
        keyring.Import(_samples.Workspace["ann"].Keyring.Export());
        var originals = _samples.Deltas.ToDictionary(d => d, d =>
        {
            Assert.Equal(OpenFailure.None, DeltaCrypto.TryDecrypt(d, keyring, out var op));
            return OpCodec.Encode(op!);
        });
        var stillDecoded = 0;
        MutatedDeltas.Sample((delta, mutations) =>
        {
            Assert.Equal(ann.Device.Id, delta.Header.Device);
            var bytes = Mutation.ApplyAll(mutations, delta.Bytes);
            SealedDelta? mutated = null;
            if (!Accepts(() => mutated = DeltaCodec.Decode(bytes)) || bytes.AsSpan().SequenceEqual(delta.Bytes)) return;
            stillDecoded++;
            Assert.False(DeltaCrypto.VerifySignature(mutated!, ann.Device.Signing.PublicKey), "a damaged delta verified");
            var failure = DeltaCrypto.TryDecrypt(mutated!, keyring, out var op);
            if (failure != OpenFailure.None) return;
            // It opened: then only the signature was touched, and what it opens to is the original operation.
            Assert.True(mutated!.SignedPart.SequenceEqual(delta.SignedPart), "a delta with a damaged header or payload opened");
            Assert.Equal(originals[delta], OpCodec.Encode(op!));
        }, iter: Iterations, threads: 1, print: t => $"{t.Item1} <- {string.Join("; ", t.Item2.AsEnumerable())}");
        // Guards the property against a generator whose every mutation is rejected by the parser alone.
        // About 13% get past (115-153 of 1,000 in 20 runs); a tenth failed once in CI at 99, so the bar
        // is a twentieth: far below the random spread, far above a generator that stopped reaching it.
        Assert.True(stillDecoded > Iterations / 20, $"only {stillDecoded} damaged deltas got past the parser");
    }

    private static void AssertCanonicalHeader(SealedDelta decoded)
    {
        var w = new WireWriter();
        DeltaCodec.WriteHeader(w, decoded.Header);
        Assert.True(w.WrittenSpan.SequenceEqual(decoded.Bytes.AsSpan(0, decoded.HeaderEnd)), "the header is not in canonical form");
    }

    // ---- OpCodec ----------------------------------------------------------------------------

    [Fact]
    public void OpCodec_should_decode_what_it_encodes_to_the_same_bytes() =>
        WireGen.Op(_samples.Card).Sample(op =>
        {
            var bytes = OpCodec.Encode(op);
            var decoded = OpCodec.Decode(bytes);
            Assert.Equal(op.Kind, decoded.Kind);
            Assert.Equal(bytes, OpCodec.Encode(decoded));
        }, iter: Iterations);

    [Fact]
    public void OpCodec_should_only_throw_WireFormatException_on_random_bytes() =>
        Gen.Select(Gen.Enum<OpKind>(), RandomBytes).Sample((kind, bytes) =>
        {
            // A valid kind byte first, so every operation's body decoder is reached.
            if (bytes.Length > 0) bytes[0] = (byte)kind;
            Accepts(() => OpCodec.Decode(bytes));
        }, iter: Iterations);

    [Fact]
    public void OpCodec_should_only_throw_WireFormatException_on_mutated_operations_and_accept_only_canonical_bytes() =>
        Gen.Select(WireGen.Op(_samples.Card), Mutation.Some).Sample((op, mutations) =>
        {
            var bytes = Mutation.ApplyAll(mutations, OpCodec.Encode(op));
            DeltaOp? decoded = null;
            if (Accepts(() => decoded = OpCodec.Decode(bytes))) Assert.Equal(bytes, OpCodec.Encode(decoded!));
        }, iter: Iterations, print: t => $"{t.Item1.Kind} <- {string.Join("; ", t.Item2.AsEnumerable())}");

    [Fact]
    public void OpCodec_should_reject_inflated_field_counts_and_lengths()
    {
        var bytes = OpCodec.Encode(new CreateEntry(EntryFields.Of(("text", "hello"), ("title", "hi"))));
        // kind (1) | field count | name length | name ...
        foreach (var at in new[] { 1, 2 })
        foreach (var claim in Mutation.InflatedClaims(bytes, at))
            Assert.Throws<WireFormatException>(() => OpCodec.Decode(Mutation.WithVarUIntAt(bytes, at, claim)));
    }

    // ---- ContactCard ------------------------------------------------------------------------

    [Fact]
    public void ContactCard_Decode_should_only_throw_WireFormatException_on_random_bytes() =>
        Gen.Select(Gen.Bool, RandomBytes).Sample((versioned, bytes) =>
        {
            if (versioned && bytes.Length > 0) bytes[0] = 1;
            Accepts(() => ContactCard.Decode(bytes));
        }, iter: Iterations);

    [Fact]
    public void ContactCard_Decode_should_reject_every_mutated_card() =>
        Mutation.Some.Sample(mutations =>
        {
            var bytes = Mutation.ApplyAll(mutations, _samples.Card.Encoded);
            if (Accepts(() => ContactCard.Decode(bytes)))
                Assert.Equal(_samples.Card.Encoded, bytes); // only an undamaged card (mutations that cancel out) decodes
        }, iter: Iterations, print: m => string.Join("; ", m.AsEnumerable()));

    [Fact]
    public void ContactCard_Decode_should_reject_inflated_lengths_and_counts()
    {
        var bytes = _samples.Card.Encoded;
        var nameBytes = System.Text.Encoding.UTF8.GetByteCount(_samples.Card.Name);
        var nameLengthAt = 1;
        var deviceCountAt = nameLengthAt + 1 + nameBytes + Signing.PublicKeySize + AgreementKeyPair.PublicKeySize;
        // Found from the relay's own bytes, so the offsets hold whatever each device entry carries.
        var relay = System.Text.Encoding.UTF8.GetBytes(_samples.Card.Relays[0]);
        var relayLengthAt = bytes.AsSpan().IndexOf(relay) - 1;
        var relayCountAt = relayLengthAt - 1;
        Assert.Equal(relay.Length, bytes[relayLengthAt]);
        Assert.Equal(_samples.Card.Devices.Count, bytes[deviceCountAt]);
        Assert.Equal(_samples.Card.Relays.Count, bytes[relayCountAt]);
        foreach (var at in new[] { nameLengthAt, deviceCountAt, relayCountAt, relayLengthAt })
        foreach (var claim in Mutation.InflatedClaims(bytes, at))
            Assert.Throws<WireFormatException>(() => ContactCard.Decode(Mutation.WithVarUIntAt(bytes, at, claim)));
    }

    [Fact]
    public void ContactCard_Parse_should_only_throw_WireFormatException_on_random_text() =>
        Gen.Select(Gen.Bool, Gen.String, Gen.Char["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= "].Array[0, 700])
            .Sample((prefixed, text, base64) =>
            {
                var input = prefixed ? ContactCard.TextPrefix + new string(base64) : text;
                Accepts(() => ContactCard.Parse(input));
            }, iter: Iterations);

    [Fact]
    public void ContactCard_Parse_should_never_turn_mutated_text_into_a_different_card() =>
        Mutation.Some.Sample(mutations =>
        {
            // Latin-1 maps each damaged byte to one character, so the text also gets control and non-ASCII characters.
            var text = System.Text.Encoding.Latin1.GetString(
                Mutation.ApplyAll(mutations, System.Text.Encoding.Latin1.GetBytes(_samples.Card.ToText())));
            ContactCard? card = null;
            if (Accepts(() => card = ContactCard.Parse(text))) Assert.Equal(_samples.Card.Encoded, card!.Encoded);
        }, iter: Iterations, print: m => string.Join("; ", m.AsEnumerable()));

    [Fact]
    public void ContactCard_Parse_should_reject_text_longer_than_any_card()
    {
        var e = Assert.Throws<WireFormatException>(() => ContactCard.Parse(ContactCard.TextPrefix + new string('A', ContactCard.MaxEncodedSize * 2 + 4)));
        Assert.Contains("too large", e.Message, StringComparison.Ordinal);
    }

    // ---- EpochKeyring -----------------------------------------------------------------------

    [Fact]
    public void EpochKeyring_Import_should_only_throw_WireFormatException_on_random_bytes() =>
        RandomBytes.Sample(bytes =>
        {
            using var keyring = new EpochKeyring(WorkspaceId.New());
            Accepts(() => keyring.Import(bytes));
        }, iter: Iterations);

    [Fact]
    public void EpochKeyring_Import_should_only_throw_WireFormatException_on_mutated_exports() =>
        Mutation.Some.Sample(mutations =>
        {
            using var keyring = new EpochKeyring(WorkspaceId.New());
            Accepts(() => keyring.Import(Mutation.ApplyAll(mutations, _samples.Keyring)));
        }, iter: Iterations, print: m => string.Join("; ", m.AsEnumerable()));

    [Fact]
    public void EpochKeyring_Import_should_reject_an_inflated_count()
    {
        using var source = new EpochKeyring(WorkspaceId.New());
        source.Import(_samples.Keyring);
        Assert.True(source.Count >= 3);
        foreach (var claim in Mutation.InflatedClaims(_samples.Keyring, 0))
        {
            using var keyring = new EpochKeyring(WorkspaceId.New());
            Assert.Throws<WireFormatException>(() => keyring.Import(Mutation.WithVarUIntAt(_samples.Keyring, 0, claim)));
        }
    }

    // ---- VersionVector ----------------------------------------------------------------------

    /// <summary>Reads a version vector and re-encodes it: an accepted input must be exactly the canonical bytes it read.</summary>
    private static void ReadVersionVector(byte[] bytes)
    {
        var r = new WireReader(bytes);
        var vv = VersionVector.Read(ref r);
        var w = new WireWriter();
        vv.Write(w);
        Assert.True(w.WrittenSpan.SequenceEqual(bytes.AsSpan(0, r.Position)), "a version vector was accepted in a non-canonical form");
    }

    [Fact]
    public void VersionVector_Read_should_round_trip_every_vector() =>
        WireGen.VersionVector.Sample(vv =>
        {
            var w = new WireWriter();
            vv.Write(w);
            var r = new WireReader(w.WrittenSpan);
            Assert.Equal(vv, VersionVector.Read(ref r));
            Assert.True(r.AtEnd);
        }, iter: Iterations);

    [Fact]
    public void VersionVector_Read_should_only_throw_WireFormatException_on_random_bytes() =>
        RandomBytes.Sample(bytes => { Accepts(() => ReadVersionVector(bytes)); }, iter: Iterations);

    [Fact]
    public void VersionVector_Read_should_only_throw_WireFormatException_on_mutated_vectors() =>
        Gen.Select(WireGen.VersionVector, Mutation.Some).Sample((vv, mutations) =>
        {
            var w = new WireWriter();
            vv.Write(w);
            Accepts(() => ReadVersionVector(Mutation.ApplyAll(mutations, w.ToArray())));
        }, iter: Iterations, print: t => $"{t.Item1} <- {string.Join("; ", t.Item2.AsEnumerable())}");

    [Fact]
    public void VersionVector_Read_should_reject_an_inflated_count()
    {
        var vv = VersionVector.Empty;
        for (ulong i = 1; i <= 3; i++) vv = vv.With(WireGen.DeltaId.Single());
        var w = new WireWriter();
        vv.Write(w);
        var bytes = w.ToArray();
        Assert.Equal(3, bytes[0]);
        foreach (var claim in Mutation.InflatedClaims(bytes, 0))
            Assert.Throws<WireFormatException>(() => ReadVersionVector(Mutation.WithVarUIntAt(bytes, 0, claim)));
    }

    // ---- KeyWrap ----------------------------------------------------------------------------

    [Fact]
    public void KeyWrap_Unwrap_should_only_throw_WireFormatException_on_random_bytes() =>
        Gen.Byte.Array[0, 300].Sample(bytes =>
            Assert.False(Accepts(() => KeyWrap.Unwrap(bytes, _samples.Recipient, EncodingSamples.WrapContext))),
            iter: Iterations);

    [Fact]
    public void KeyWrap_Unwrap_should_never_open_a_mutated_wrap() =>
        Mutation.Some.Sample(mutations =>
        {
            var bytes = Mutation.ApplyAll(mutations, _samples.Wrapped);
            byte[]? secret = null;
            if (!Accepts(() => secret = KeyWrap.Unwrap(bytes, _samples.Recipient, EncodingSamples.WrapContext))) return;
            Assert.Equal(_samples.Wrapped, bytes);
            Assert.Equal(_samples.Secret, secret);
        }, iter: Iterations, print: m => string.Join("; ", m.AsEnumerable()));
}

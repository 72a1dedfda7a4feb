using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Tests.Encoding;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Identity;

/// <summary>Delta ids: the text form (CLI arguments, replyTo fields) and the wire form both round trip; sequence 0 does not exist.</summary>
public class DeltaIdSpecs
{
    [Fact]
    public void DeltaId_should_round_trip_through_text() =>
        WireGen.DeltaId.Sample(id =>
        {
            var text = id.ToString();
            Assert.True(DeltaId.TryParse(text, out var parsed), text);
            Assert.Equal(id, parsed);
            Assert.True(DeltaId.TryParse(text.ToUpperInvariant(), out var upper));
            Assert.Equal(id, upper);
        }, iter: 1000);

    [Fact]
    public void DeltaId_should_round_trip_through_the_wire() =>
        WireGen.DeltaId.Sample(id =>
        {
            var w = new WireWriter();
            id.Write(w);
            var r = new WireReader(w.WrittenSpan);
            Assert.Equal(id, DeltaId.Read(ref r));
            Assert.True(r.AtEnd);
        }, iter: 1000);

    [Fact]
    public void DeltaId_should_not_exist_with_sequence_zero()
    {
        var device = new DeviceId(new Fingerprint(1, 2, 3));
        Assert.False(DeltaId.TryParse(new DeltaId(device, 1).ToString()[..^1] + "0", out _));
        var w = new WireWriter();
        w.Raw(device.Value.ToBytes());
        w.VarUInt(0);
        Assert.Throws<WireFormatException>(() =>
        {
            var r = new WireReader(w.WrittenSpan);
            DeltaId.Read(ref r);
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("7")]
    [InlineData(".7")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.-1")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.+1")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa. 1")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.18446744073709551616")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.1")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0.1")]
    public void DeltaId_should_reject_malformed_text(string? text) => Assert.False(DeltaId.TryParse(text, out _));
}

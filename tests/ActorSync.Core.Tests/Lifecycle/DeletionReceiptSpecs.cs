using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Lifecycle;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Lifecycle;

public class DeletionReceiptSpecs
{
    private static (DeletionReceipt Receipt, byte[] Bytes, ContactCard Card) Signed(TestMember cat)
    {
        var receipt = new DeletionReceipt(WorkspaceId.New(), cat.Account.Id, cat.Device.Id, new DeltaId(cat.Device.Id, 7), 1_700_000_000_123);
        return (receipt, DeletionReceiptCodec.Encode(receipt, cat.Device), cat.Card);
    }

    [Fact]
    public void Receipt_should_verify_under_the_card_of_the_device_that_signed_it()
    {
        using var cat = new TestMember("cat");
        var (receipt, bytes, card) = Signed(cat);

        Assert.True(DeletionReceiptCodec.Verify(bytes, card, out var verified));
        Assert.Equal(receipt, verified);
        Assert.Equal(receipt, DeletionReceiptCodec.Decode(bytes));
    }

    [Fact]
    public void Receipt_should_not_verify_under_another_accounts_card()
    {
        using var cat = new TestMember("cat");
        using var eve = new TestMember("eve");
        var (_, bytes, _) = Signed(cat);

        Assert.False(DeletionReceiptCodec.Verify(bytes, eve.Card, out var verified));
        Assert.Null(verified);
    }

    [Fact]
    public void Every_single_bit_flip_or_truncation_should_fail_verification()
    {
        using var cat = new TestMember("cat");
        var (_, bytes, card) = Signed(cat);
        for (var i = 0; i < bytes.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var flipped = (byte[])bytes.Clone();
                flipped[i] ^= (byte)(1 << bit);
                Assert.False(DeletionReceiptCodec.Verify(flipped, card, out _), $"flip of bit {bit} in byte {i} verified");
            }
        }
        for (var length = 0; length < bytes.Length; length++)
            Assert.False(DeletionReceiptCodec.Verify(bytes.AsSpan(0, length), card, out _), $"truncation to {length} bytes verified");
    }

    [Fact]
    public void Garbage_should_be_refused_with_a_wire_format_error_not_a_crash()
    {
        var random = new Random(5);
        for (var n = 0; n < 200; n++)
        {
            var garbage = new byte[random.Next(0, 700)];
            random.NextBytes(garbage);
            try
            {
                DeletionReceiptCodec.Decode(garbage);
            }
            catch (WireFormatException)
            {
                // the clear refusal expected
            }
        }
    }

    [Fact]
    public void A_device_should_sign_only_receipts_that_name_it()
    {
        using var cat = new TestMember("cat");
        using var other = new TestMember("other");
        var receipt = new DeletionReceipt(WorkspaceId.New(), cat.Account.Id, other.Device.Id, new DeltaId(cat.Device.Id, 1), 0);
        Assert.Throws<ArgumentException>(() => DeletionReceiptCodec.Encode(receipt, cat.Device));
    }
}

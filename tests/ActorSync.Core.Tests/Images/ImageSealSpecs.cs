using System.Security.Cryptography;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Images;

/// <summary>
/// ImageSeal: an image opens only for the account and context it was sealed for, and any change to
/// the sealed bytes (every bit of the key wrap, nonce and tag; sampled bits of the body; every
/// truncation) is a <see cref="WireFormatException"/>, never another exception or an image.
/// </summary>
public class ImageSealSpecs
{
    private const string Context = "image/ws/snapshot";

    private static byte[] SampleImage()
    {
        using var net = new ImageNetwork(7, members: 3);
        net.Run(30);
        net.Heal();
        return net["m0"].WriteImage(ImageLog.Local);
    }

    private static void AssertDoesNotOpen(byte[] sealedImage, AgreementKeyPair recipient, string context, string what)
    {
        try
        {
            ImageSeal.Open(sealedImage, recipient, context);
            Assert.Fail($"{what}: opened");
        }
        catch (WireFormatException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of WireFormatException: {e.Message}");
        }
    }

    [Fact]
    public void Sealed_image_should_open_only_for_its_account_and_context()
    {
        using var ann = new TestMember("ann");
        using var bob = new TestMember("bob");
        var image = SampleImage();
        var sealedImage = ImageSeal.Seal(image, ann.Account.Agreement.PublicKeyBytes, Context);
        Assert.Equal(image, ImageSeal.Open(sealedImage, ann.Account.Agreement, Context));
        Assert.False(sealedImage.AsSpan().IndexOf(image.AsSpan(0, 64)) >= 0, "the image is in clear");
        // Sealed twice, never the same bytes (a fresh key and nonce each time).
        Assert.NotEqual(sealedImage, ImageSeal.Seal(image, ann.Account.Agreement.PublicKeyBytes, Context));
        AssertDoesNotOpen(sealedImage, bob.Account.Agreement, Context, "another account");
        AssertDoesNotOpen(sealedImage, ann.Account.Agreement, Context + "x", "another context");
        AssertDoesNotOpen(sealedImage, ann.Account.Agreement, "image/ws", "the transfer context");
        // An empty image seals and opens too.
        Assert.Empty(ImageSeal.Open(ImageSeal.Seal([], ann.Account.Agreement.PublicKeyBytes, Context), ann.Account.Agreement, Context));
    }

    [Fact]
    public void Every_bit_flip_and_truncation_of_a_sealed_image_should_be_a_WireFormatException()
    {
        using var ann = new TestMember("ann");
        var image = SampleImage();
        var sealedImage = ImageSeal.Seal(image, ann.Account.Agreement.PublicKeyBytes, Context);
        var random = new Random(11);
        // Key wrap (length prefix, ephemeral key, wrapped key, its tag) and nonce: every bit; the body's last 16 bytes (the tag) too.
        var header = 1 + KeyWrap.Overhead + 32 + 12;
        var positions = Enumerable.Range(0, header)
            .Concat(Enumerable.Range(sealedImage.Length - 16, 16))
            .Concat(Enumerable.Range(0, 200).Select(_ => random.Next(header, sealedImage.Length)))
            .Distinct().Order().ToList();
        foreach (var at in positions)
        for (var bit = 0; bit < 8; bit++)
        {
            var flipped = (byte[])sealedImage.Clone();
            flipped[at] ^= (byte)(1 << bit);
            AssertDoesNotOpen(flipped, ann.Account.Agreement, Context, $"bit {bit} of byte {at}");
        }
        var cuts = Enumerable.Range(0, header + 20).Concat(Enumerable.Range(0, 100).Select(_ => random.Next(sealedImage.Length)))
            .Append(sealedImage.Length - 1).Distinct();
        foreach (var length in cuts)
            AssertDoesNotOpen(sealedImage[..length], ann.Account.Agreement, Context, $"cut to {length}");
        AssertDoesNotOpen([.. sealedImage, 0], ann.Account.Agreement, Context, "a byte appended");
    }

    /// <summary>
    /// Anyone who knows an account's public agreement key can wrap a key for it: a sealed image
    /// whose wrapped key is not 32 bytes is hostile input, and must be refused like any other.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(20)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void Sealed_image_with_a_wrapped_key_of_the_wrong_size_should_be_a_WireFormatException(int keySize)
    {
        using var ann = new TestMember("ann");
        var key = RandomNumberGenerator.GetBytes(keySize);
        var w = new WireWriter();
        w.Bytes(KeyWrap.Wrap(key, ann.Account.Agreement.PublicKeyBytes, Context));
        w.Raw(new byte[12]);
        w.Raw(new byte[16 + 10]);
        AssertDoesNotOpen(w.ToArray(), ann.Account.Agreement, Context, $"a {keySize}-byte key");
    }
}

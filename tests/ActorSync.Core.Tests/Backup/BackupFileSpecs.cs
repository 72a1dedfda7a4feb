using System.Security.Cryptography;
using ActorSync.Core.Backup;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Backup;

/// <summary>The encrypted backup file: round trips of any size, and every change, cut or wrong passphrase refused with one message.</summary>
public class BackupFileSpecs
{
    // The format allows any count in range; a low one keeps hundreds of derivations quick.
    private const int Iterations = BackupHeader.MinIterations;
    private static readonly byte[] Passphrase = "correct horse battery staple"u8.ToArray();

    private static byte[] Encrypt(byte[] plain, int segmentSize, BackupKind kind = BackupKind.Workspace, int chunk = 777)
    {
        using var file = new MemoryStream();
        using (var writer = BackupWriter.Create(file, kind, Passphrase, Iterations, segmentSize))
        {
            // Written in uneven pieces, as a copy from the network would.
            for (var offset = 0; offset < plain.Length; offset += chunk)
                writer.Write(plain, offset, Math.Min(chunk, plain.Length - offset));
            writer.Complete();
        }
        return file.ToArray();
    }

    private static byte[] Decrypt(byte[] file, byte[]? passphrase = null, BackupKind kind = BackupKind.Workspace)
    {
        using var reader = BackupReader.Open(new MemoryStream(file), kind, passphrase ?? Passphrase);
        using var plain = new MemoryStream();
        reader.CopyTo(plain);
        return plain.ToArray();
    }

    private static void AssertRefused(byte[] file, byte[]? passphrase = null)
    {
        var e = Assert.Throws<BackupFormatException>(() => Decrypt(file, passphrase));
        // A clear refusal (damaged, not a backup, a version byte changed), never the passphrase.
        Assert.True(e.Message == BackupFormatException.WrongPassphraseOrDamaged || e.Message == "not an ActorSync backup file"
            || e.Message.StartsWith("backup format version", StringComparison.Ordinal), e.Message);
        Assert.DoesNotContain("horse", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backup_file_should_round_trip_any_size_and_segment_size()
    {
        Gen.Select(Gen.Int[0, 5000], Gen.Int[1, 1500], Gen.Int[1, 2000]).Sample((size, segment, chunk) =>
        {
            var plain = RandomNumberGenerator.GetBytes(size);
            Assert.Equal(plain, Decrypt(Encrypt(plain, segment, chunk: chunk)));
        }, iter: 60);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(1024)]
    public void Backup_file_should_round_trip_empty_and_segment_boundaries(int size)
    {
        var plain = RandomNumberGenerator.GetBytes(size);
        Assert.Equal(plain, Decrypt(Encrypt(plain, segmentSize: 256)));
    }

    [Fact]
    public void Backup_file_should_refuse_a_wrong_passphrase()
    {
        var file = Encrypt(RandomNumberGenerator.GetBytes(1000), 256);
        AssertRefused(file, "correct horse battery stapler"u8.ToArray());
        AssertRefused(file, []);
    }

    [Fact]
    public void Backup_file_should_detect_every_single_byte_change()
    {
        // Three segments of 64 bytes and a final one: header, lengths, flags, ciphertext and tags all covered.
        var file = Encrypt(RandomNumberGenerator.GetBytes(200), 64);
        foreach (byte flip in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (var i = 0; i < file.Length; i++)
            {
                var damaged = (byte[])file.Clone();
                damaged[i] ^= flip;
                AssertRefused(damaged);
            }
        }
    }

    [Fact]
    public void Backup_file_should_detect_every_truncation_and_anything_appended()
    {
        var file = Encrypt(RandomNumberGenerator.GetBytes(200), 64);
        for (var length = 0; length < file.Length; length++) AssertRefused(file[..length]);
        AssertRefused([.. file, 0]);
        AssertRefused([.. file, .. file]);
    }

    [Fact]
    public void Backup_file_should_detect_reordered_or_dropped_segments()
    {
        var file = Encrypt(RandomNumberGenerator.GetBytes(128), 64);
        const int segment = 4 + 64 + 16;
        var header = file[..BackupHeader.Size];
        var first = file[BackupHeader.Size..(BackupHeader.Size + segment)];
        var second = file[(BackupHeader.Size + segment)..(BackupHeader.Size + 2 * segment)];
        var final = file[(BackupHeader.Size + 2 * segment)..];
        AssertRefused([.. header, .. second, .. first, .. final]);
        AssertRefused([.. header, .. first, .. final]);
        AssertRefused([.. header, .. final]);
    }

    [Fact]
    public void Backup_file_should_say_what_it_is_when_it_is_not_one_or_of_another_kind()
    {
        Assert.Equal("not an ActorSync backup file",
            Assert.Throws<BackupFormatException>(() => Decrypt("hello, world: not a backup"u8.ToArray())).Message);
        Assert.Equal("not an ActorSync backup file", Assert.Throws<BackupFormatException>(() => Decrypt([])).Message);
        var account = Encrypt([1, 2, 3], 64, BackupKind.Account);
        Assert.Equal("this file is an account backup, not a workspace export",
            Assert.Throws<BackupFormatException>(() => Decrypt(account)).Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, Decrypt(account, kind: BackupKind.Account));
    }

    [Fact]
    public void Backup_file_header_should_record_the_key_derivation()
    {
        var file = Encrypt([], 64);
        var header = BackupHeader.Read(new MemoryStream(file));
        Assert.Equal(Iterations, header.Iterations);
        Assert.Equal(BackupHeader.SaltSize, header.Salt.Length);
        Assert.Equal(64, header.SegmentSize);
        // Two files from one passphrase share neither salt nor nonce prefix.
        var other = BackupHeader.Read(new MemoryStream(Encrypt([], 64)));
        Assert.NotEqual(header.Salt, other.Salt);
        Assert.Equal(BackupHeader.DefaultIterations, BackupHeader.New(BackupKind.Account).Iterations);
    }

    [Fact]
    public void Backup_writer_disposed_without_completing_should_leave_a_file_every_reader_refuses()
    {
        using var file = new MemoryStream();
        using (var writer = BackupWriter.Create(file, BackupKind.Workspace, Passphrase, Iterations, 64))
            writer.Write(RandomNumberGenerator.GetBytes(300));
        AssertRefused(file.ToArray());
    }
}

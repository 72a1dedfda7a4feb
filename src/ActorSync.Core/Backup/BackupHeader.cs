using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ActorSync.Core.Backup;

/// <summary>
/// The clear header of an encrypted backup file: magic, format version, kind, key derivation
/// (PBKDF2-HMAC-SHA256 with its iteration count and salt), the file's nonce prefix and the
/// plaintext size of a segment. The whole header is associated data of every segment, so changing
/// any byte of it fails authentication.
/// </summary>
public sealed record BackupHeader(BackupKind Kind, int Iterations, byte[] Salt, byte[] NoncePrefix, int SegmentSize)
{
    public static ReadOnlySpan<byte> Magic => "ASBACKUP"u8;
    public const byte Version = 1;
    public const byte KdfPbkdf2Sha256 = 1;
    public const int SaltSize = 16;
    public const int NoncePrefixSize = 4;
    public const int Size = 8 + 1 + 1 + 1 + 4 + SaltSize + NoncePrefixSize + 4;

    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA256: about half a second on a slow core.</summary>
    public const int DefaultIterations = 600_000;

    // Bounds on what a header may claim, so a damaged count cannot stall the reader for minutes
    // (and a low one is no risk: whoever writes a file chooses its cost anyway).
    public const int MinIterations = 1_000;
    public const int MaxIterations = 10_000_000;
    public const int DefaultSegmentSize = 64 * 1024;
    public const int MaxSegmentSize = 16 * 1024 * 1024;

    public static BackupHeader New(BackupKind kind, int iterations = DefaultIterations, int segmentSize = DefaultSegmentSize)
    {
        if (iterations is < MinIterations or > MaxIterations) throw new ArgumentOutOfRangeException(nameof(iterations));
        if (segmentSize is < 1 or > MaxSegmentSize) throw new ArgumentOutOfRangeException(nameof(segmentSize));
        return new BackupHeader(kind, iterations, RandomNumberGenerator.GetBytes(SaltSize), RandomNumberGenerator.GetBytes(NoncePrefixSize), segmentSize);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        span[8] = Version;
        span[9] = (byte)Kind;
        span[10] = KdfPbkdf2Sha256;
        BinaryPrimitives.WriteInt32BigEndian(span[11..], Iterations);
        Salt.CopyTo(span[15..]);
        NoncePrefix.CopyTo(span[(15 + SaltSize)..]);
        BinaryPrimitives.WriteInt32BigEndian(span[(15 + SaltSize + NoncePrefixSize)..], SegmentSize);
        return bytes;
    }

    /// <summary>Parses a header; says plainly when the bytes are no backup at all, or of a version this program does not know.</summary>
    public static BackupHeader Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Magic.Length || !bytes[..Magic.Length].SequenceEqual(Magic))
            throw new BackupFormatException("not an ActorSync backup file");
        if (bytes.Length < Size) throw new BackupFormatException(BackupFormatException.WrongPassphraseOrDamaged);
        if (bytes[8] != Version) throw new BackupFormatException($"backup format version {bytes[8]} is not supported (this program reads version {Version})");
        var kind = (BackupKind)bytes[9];
        var iterations = BinaryPrimitives.ReadInt32BigEndian(bytes[11..]);
        var segmentSize = BinaryPrimitives.ReadInt32BigEndian(bytes[(15 + SaltSize + NoncePrefixSize)..]);
        if (kind is not (BackupKind.Workspace or BackupKind.Account) || bytes[10] != KdfPbkdf2Sha256
            || iterations is < MinIterations or > MaxIterations || segmentSize is < 1 or > MaxSegmentSize)
            throw new BackupFormatException(BackupFormatException.WrongPassphraseOrDamaged);
        return new BackupHeader(kind, iterations, bytes.Slice(15, SaltSize).ToArray(),
            bytes.Slice(15 + SaltSize, NoncePrefixSize).ToArray(), segmentSize);
    }

    /// <summary>Reads and parses the header at the start of <paramref name="file"/>.</summary>
    public static BackupHeader Read(Stream file)
    {
        var bytes = new byte[Size];
        var read = file.ReadAtLeast(bytes, Size, throwOnEndOfStream: false);
        return Parse(bytes.AsSpan(0, read));
    }

    public static string Describe(BackupKind kind) => kind == BackupKind.Workspace ? "a workspace export" : "an account backup";

    /// <summary>The AES-256 key from a passphrase (its UTF-8 bytes), as this header prescribes.</summary>
    internal byte[] DeriveKey(ReadOnlySpan<byte> passphrase)
    {
        var key = new byte[32];
        Rfc2898DeriveBytes.Pbkdf2(passphrase, Salt, key, Iterations, HashAlgorithmName.SHA256);
        return key;
    }

    /// <summary>Segment nonce: the file's random prefix, then the segment's index (never repeats within a file; the salt makes each file's key its own).</summary>
    internal void Nonce(ulong index, Span<byte> nonce)
    {
        NoncePrefix.CopyTo(nonce);
        BinaryPrimitives.WriteUInt64BigEndian(nonce[NoncePrefixSize..], index);
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ActorSync.Core.Backup;

/// <summary>
/// Encrypts a backup as it is written: the header, then segments of at most
/// <see cref="BackupHeader.SegmentSize"/> plaintext bytes, each
/// <c>u32 (bit 31: final, bits 0-30: plaintext length) || AES-256-GCM ciphertext || 16-byte tag</c>
/// with nonce = prefix || segment index and associated data = header || final flag. The last
/// segment is marked final (it may be empty), so a file cut at a segment boundary is detected too.
/// Only <see cref="Complete"/> writes that segment: a writer disposed without it leaves a file
/// every reader refuses.
/// </summary>
public sealed class BackupWriter : Stream
{
    internal const int TagSize = 16;
    internal const uint FinalFlag = 0x8000_0000;

    private readonly Stream _inner;
    private readonly BackupHeader _header;
    private readonly byte[] _headerBytes;
    private readonly AesGcm _aes;
    private readonly byte[] _plain;
    private readonly byte[] _segment;
    private int _filled;
    private ulong _index;
    private bool _completed;

    private BackupWriter(Stream inner, BackupHeader header, ReadOnlySpan<byte> passphrase)
    {
        _inner = inner;
        _header = header;
        _headerBytes = header.ToBytes();
        var key = header.DeriveKey(passphrase);
        try
        {
            _aes = new AesGcm(key, TagSize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        _plain = new byte[header.SegmentSize];
        _segment = new byte[4 + header.SegmentSize + TagSize];
        _inner.Write(_headerBytes);
    }

    /// <param name="passphrase">UTF-8 bytes of the passphrase; the caller keeps (and clears) them.</param>
    public static BackupWriter Create(Stream inner, BackupKind kind, ReadOnlySpan<byte> passphrase,
        int iterations = BackupHeader.DefaultIterations, int segmentSize = BackupHeader.DefaultSegmentSize) =>
        new(inner, BackupHeader.New(kind, iterations, segmentSize), passphrase);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_completed;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var take = Fill(buffer);
            buffer = buffer[take..];
            if (_filled == _plain.Length) _inner.Write(Seal(final: false).Span);
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var take = Fill(buffer.Span);
            buffer = buffer[take..];
            if (_filled == _plain.Length) await _inner.WriteAsync(Seal(final: false), cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Writes the final segment and flushes: the file is whole only after this.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _inner.Write(Seal(final: true).Span);
        _completed = true;
        _inner.Flush();
    }

    public override void Flush() => _inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    private int Fill(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        var take = Math.Min(buffer.Length, _plain.Length - _filled);
        buffer[..take].CopyTo(_plain.AsSpan(_filled));
        _filled += take;
        return take;
    }

    private ReadOnlyMemory<byte> Seal(bool final)
    {
        var length = _filled;
        BinaryPrimitives.WriteUInt32BigEndian(_segment, (uint)length | (final ? FinalFlag : 0));
        Span<byte> nonce = stackalloc byte[12];
        _header.Nonce(_index++, nonce);
        _aes.Encrypt(nonce, _plain.AsSpan(0, length), _segment.AsSpan(4, length), _segment.AsSpan(4 + length, TagSize),
            AssociatedData(_headerBytes, final));
        CryptographicOperations.ZeroMemory(_plain.AsSpan(0, length));
        _filled = 0;
        return _segment.AsMemory(0, 4 + length + TagSize);
    }

    internal static byte[] AssociatedData(byte[] header, bool final)
    {
        var aad = new byte[header.Length + 1];
        header.CopyTo(aad, 0);
        aad[^1] = final ? (byte)1 : (byte)0;
        return aad;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
            _completed = true;
        }
        base.Dispose(disposing);
    }
}

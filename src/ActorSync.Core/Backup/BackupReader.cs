using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ActorSync.Core.Backup;

/// <summary>
/// Decrypts a backup written by <see cref="BackupWriter"/> as it is read. A segment's bytes are
/// handed out only after its tag checks, and the final segment's only once the file is known to end
/// right after it; any failure (wrong passphrase, a changed, missing, reordered or added byte)
/// throws <see cref="BackupFormatException"/> with one message. <see cref="VerifyAndRewind"/> proves
/// a whole file before a caller acts on any of it.
/// </summary>
public sealed class BackupReader : Stream
{
    private readonly Stream _inner;
    private readonly BackupHeader _header;
    private readonly byte[] _headerBytes;
    private readonly AesGcm _aes;
    private readonly byte[] _segment;
    private readonly byte[] _plain;
    private int _position;
    private int _length;
    private ulong _index;
    private bool _ended;
    private bool _disposed;
    private readonly long _start;

    private BackupReader(Stream inner, BackupHeader header, ReadOnlySpan<byte> passphrase)
    {
        _inner = inner;
        _header = header;
        _headerBytes = header.ToBytes();
        var key = header.DeriveKey(passphrase);
        try
        {
            _aes = new AesGcm(key, BackupWriter.TagSize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        _segment = new byte[header.SegmentSize + BackupWriter.TagSize];
        _plain = new byte[header.SegmentSize];
        _start = inner.CanSeek ? inner.Position : -1;
    }

    /// <summary>
    /// Reads the rest of the file through, checking every segment and its end, and goes back to the
    /// first segment: a caller can prove a whole file before acting on any of it, deriving the key
    /// once. Needs a seekable file.
    /// </summary>
    public void VerifyAndRewind()
    {
        if (_start < 0) throw new NotSupportedException("verifying first needs a seekable file");
        CopyTo(Null);
        _inner.Seek(_start, SeekOrigin.Begin);
        _index = 0;
        _ended = false;
        _position = _length = 0;
    }

    public BackupHeader Header => _header;

    /// <summary>Reads the header of <paramref name="inner"/> and refuses a file of another kind before any key is derived.</summary>
    public static BackupReader Open(Stream inner, BackupKind expected, ReadOnlySpan<byte> passphrase)
    {
        var header = BackupHeader.Read(inner);
        if (header.Kind != expected)
            throw new BackupFormatException($"this file is {BackupHeader.Describe(header.Kind)}, not {BackupHeader.Describe(expected)}");
        return new BackupReader(inner, header, passphrase);
    }

    public override bool CanRead => !_disposed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty) return 0;
        while (_position == _length)
        {
            if (_ended) return 0;
            Open();
        }
        var take = Math.Min(buffer.Length, _length - _position);
        _plain.AsSpan(_position, take).CopyTo(buffer);
        _position += take;
        return take;
    }

    // File reads are local and short: the asynchronous forms run the synchronous ones.
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Open()
    {
        Span<byte> prefix = stackalloc byte[4];
        if (_inner.ReadAtLeast(prefix, 4, throwOnEndOfStream: false) < 4) throw Damaged();
        var word = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        var final = (word & BackupWriter.FinalFlag) != 0;
        var length = (int)(word & ~BackupWriter.FinalFlag);
        if (length > _header.SegmentSize) throw Damaged();
        var sealedLength = length + BackupWriter.TagSize;
        if (_inner.ReadAtLeast(_segment.AsSpan(0, sealedLength), sealedLength, throwOnEndOfStream: false) < sealedLength) throw Damaged();
        Span<byte> nonce = stackalloc byte[12];
        _header.Nonce(_index++, nonce);
        try
        {
            _aes.Decrypt(nonce, _segment.AsSpan(0, length), _segment.AsSpan(length, BackupWriter.TagSize), _plain.AsSpan(0, length),
                BackupWriter.AssociatedData(_headerBytes, final));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw Damaged();
        }
        // Bytes after the final segment mean the file is not what was written.
        if (final && _inner.ReadAtLeast(prefix[..1], 1, throwOnEndOfStream: false) != 0) throw Damaged();
        _ended = final;
        _position = 0;
        _length = length;
    }

    private static BackupFormatException Damaged() => new(BackupFormatException.WrongPassphraseOrDamaged);

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _aes.Dispose();
            CryptographicOperations.ZeroMemory(_plain);
        }
        base.Dispose(disposing);
    }
}

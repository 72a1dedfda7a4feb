using ActorSync.Core.Replication;

namespace ActorSync.Peer.Home;

/// <summary>
/// A workspace's file content on disk: an append-only pack of StoreChunk deltas exactly as sealed
/// (ciphertext, signed), so a replica's log holds a location instead of the bytes. The journal is
/// the index: its events name offset, length and digest. Appends become durable at
/// <see cref="Flush"/>, which the workspace actor calls before writing the journal event that
/// names them, so an event never points past what survived a crash; bytes a crash left without an
/// event are unreferenced garbage, and later appends go after them. Opened on first use: a
/// workspace without files has no pack.
/// </summary>
public sealed class ChunkPack : IChunkStore, IDisposable
{
    private readonly string _path;
    private FileStream? _file;
    private long _end;
    private bool _dirty;

    public ChunkPack(string path) => _path = path;

    public ChunkLocation Append(ReadOnlySpan<byte> sealedBytes)
    {
        var file = Open();
        RandomAccess.Write(file.SafeFileHandle, sealedBytes, _end);
        var at = new ChunkLocation(_end, sealedBytes.Length);
        _end += sealedBytes.Length;
        _dirty = true;
        return at;
    }

    /// <remarks>Positional reads of bytes already appended: safe from another thread (an export streams this way).</remarks>
    public byte[] Read(ChunkLocation at)
    {
        var file = Open();
        var bytes = new byte[at.Length];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = RandomAccess.Read(file.SafeFileHandle, bytes.AsSpan(read), at.Offset + read);
            if (n == 0) throw new IOException($"the chunk pack {_path} ends before {at.Offset + at.Length}");
            read += n;
        }
        return bytes;
    }

    /// <summary>Makes every append so far durable (fsync); nothing to do when there was none.</summary>
    public void Flush()
    {
        if (!_dirty) return;
        _file!.Flush(flushToDisk: true);
        _dirty = false;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }

    private FileStream Open()
    {
        if (_file is not null) return _file;
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        // Unbuffered: writes go straight to the file (positional), and Flush(true) is an fsync.
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.Read | FileShare.Delete, BufferSize = 0 };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        _file = new FileStream(_path, options);
        _end = _file.Length;
        return _file;
    }
}

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
/// <remarks>
/// What this device authored is sent to its members right after it is written: those appends
/// stay in memory, up to <see cref="RecentLimit"/> bytes and until <see cref="ForgetRecent"/>, and
/// a read of them is answered with the array appended. Reading them back from the file was the
/// author's largest allocation in a 100 MiB upload (a second copy of the file, a third of it on
/// the large object heap).
/// </remarks>
public sealed class ChunkPack : IChunkStore, IDisposable
{
    /// <summary>
    /// At most this many bytes of recent appends are kept: a member's send window as shipped
    /// (actorsync.peer.max-batches-in-flight x max-batch-bytes, 4 x 1 MiB) and upload windows
    /// (FileTransfer.WindowBytes, 2 MiB) authored meanwhile. Larger settings only mean more reads from the file.
    /// </summary>
    public const int RecentLimit = 8 * 1024 * 1024;

    private readonly string _path;
    private readonly Dictionary<long, byte[]> _recent = [];
    private readonly Queue<long> _recentOrder = new();
    private long _recentBytes;
    private FileStream? _file;
    private long _end;
    private bool _dirty;

    public ChunkPack(string path) => _path = path;

    public ChunkLocation Append(byte[] sealedBytes, bool sendingSoon)
    {
        var file = Open();
        RandomAccess.Write(file.SafeFileHandle, sealedBytes, _end);
        var at = new ChunkLocation(_end, sealedBytes.Length);
        _end += sealedBytes.Length;
        _dirty = true;
        if (sendingSoon && sealedBytes.Length <= RecentLimit) Remember(at.Offset, sealedBytes);
        return at;
    }

    /// <summary>How many bytes of recent appends are held in memory now.</summary>
    public long RecentBytes
    {
        get { lock (_recent) return _recentBytes; }
    }

    /// <summary>Lets go of the recent appends (the workspace calls it on its anti-entropy tick, so an idle one holds none).</summary>
    public void ForgetRecent()
    {
        lock (_recent)
        {
            _recent.Clear();
            _recentOrder.Clear();
            _recentBytes = 0;
        }
    }

    private void Remember(long offset, byte[] bytes)
    {
        lock (_recent)
        {
            while (_recentBytes + bytes.Length > RecentLimit && _recentOrder.TryDequeue(out var oldest))
                if (_recent.Remove(oldest, out var gone)) _recentBytes -= gone.Length;
            _recent[offset] = bytes;
            _recentOrder.Enqueue(offset);
            _recentBytes += bytes.Length;
        }
    }

    /// <remarks>Positional reads of bytes already appended: safe from another thread (an export streams this way).</remarks>
    public byte[] Read(ChunkLocation at)
    {
        lock (_recent)
            if (_recent.TryGetValue(at.Offset, out var held) && held.Length == at.Length) return held;
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
        ForgetRecent();
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

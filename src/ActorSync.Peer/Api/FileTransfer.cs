using System.Security.Cryptography;
using ActorSync.Core.Operations;
using ActorSync.Core.Tools;
using static ActorSync.Peer.Actors.Workspaces.FileTransferProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Api;

/// <summary>What an upload did: the version it authored, and how much of the file was new to the workspace.</summary>
public sealed record UploadResult(Core.Causality.DeltaId Version, long Size, byte[] ContentHash, int Chunks, int NewChunks, long NewBytes,
    IReadOnlyList<FileInfoView> Shown);

/// <summary>
/// Streams a file into or out of a workspace actor through an ask function, one window of chunks
/// at a time with one window in flight while the next is read or written: the API never holds a
/// whole file, and a slow journal or a slow client slows the other side down instead of filling memory.
/// </summary>
public static class FileTransfer
{
    /// <summary>About this many bytes of chunks per message (and per journal write) either way.</summary>
    public const int WindowBytes = 2 * 1024 * 1024;

    public delegate Task<object> AskWorkspace(object message, CancellationToken ct);

    public static async Task<UploadResult> UploadAsync(AskWorkspace ask, string name, Stream content, CancellationToken ct)
    {
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = new List<FileChunk>();
        var window = new List<StoreChunk>();
        long size = 0, windowBytes = 0, newBytes = 0;
        var newChunks = 0;
        Task<object>? inFlight = null;
        var begun = false;

        async Task Sent()
        {
            if (inFlight is null) return;
            var stored = (ChunksStored)await inFlight.ConfigureAwait(false);
            newChunks += stored.New;
            newBytes += stored.NewBytes;
            inFlight = null;
        }

        await foreach (var chunk in ContentChunker.ReadChunksAsync(content, ct).ConfigureAwait(false))
        {
            whole.AppendData(chunk);
            size += chunk.Length;
            var op = new StoreChunk(chunk);
            chunks.Add(new FileChunk(op.Hash, chunk.Length));
            // One version names at most this many chunks (its delta must stay decodable everywhere): stop reading now rather than at the end.
            if (chunks.Count > OpCodec.MaxChunks) throw new PeerRequestException($"the file has more than {OpCodec.MaxChunks} chunks (several GiB)", 413);
            window.Add(op);
            windowBytes += chunk.Length;
            if (windowBytes < WindowBytes) continue;
            if (!begun)
            {
                // A file bigger than one window: refused here (bad name, a guest, no files tool) before
                // more than a window of the body is read. A smaller one goes in one FinishUpload,
                // which checks the same, and costs one round trip.
                await ask(new BeginUpload(name), ct).ConfigureAwait(false);
                begun = true;
            }
            await Sent().ConfigureAwait(false);
            inFlight = ask(new UploadChunks(window), ct);
            (window, windowBytes) = ([], 0);
        }
        await Sent().ConfigureAwait(false);
        // The last (or only) window rides with the version: one write for a small file.
        var hash = whole.GetHashAndReset();
        var finished = (UploadFinished)await ask(new FinishUpload(name, size, hash, chunks, window), ct).ConfigureAwait(false);
        return new UploadResult(finished.Version, size, hash, chunks.Count, newChunks + finished.New, newBytes + finished.NewBytes, finished.Shown);
    }

    /// <summary>Writes the file's current version; refused (nothing written) if it is unknown or not all here.</summary>
    public static async Task DownloadAsync(AskWorkspace ask, string name, Stream destination, CancellationToken ct)
    {
        var manifest = (DownloadManifest)await ask(new OpenDownload(name), ct).ConfigureAwait(false);
        var windows = Windows(manifest.Chunks).ToList();
        Task<object>? next = windows.Count > 0 ? ask(new ReadChunks(windows[0]), ct) : null;
        for (var i = 0; i < windows.Count; i++)
        {
            var data = (ChunkData)await next!.ConfigureAwait(false);
            next = i + 1 < windows.Count ? ask(new ReadChunks(windows[i + 1]), ct) : null;
            foreach (var chunk in data.Chunks) await destination.WriteAsync(chunk, ct).ConfigureAwait(false);
        }
    }

    private static IEnumerable<IReadOnlyList<byte[]>> Windows(IReadOnlyList<FileChunk> chunks)
    {
        var window = new List<byte[]>();
        long bytes = 0;
        foreach (var c in chunks)
        {
            window.Add(c.Hash);
            bytes += c.Size;
            if (bytes < WindowBytes) continue;
            yield return window;
            (window, bytes) = ([], 0);
        }
        if (window.Count > 0) yield return window;
    }
}

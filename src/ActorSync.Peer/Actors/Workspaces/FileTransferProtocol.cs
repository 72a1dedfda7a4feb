using ActorSync.Core.Causality;
using ActorSync.Core.Operations;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// Streamed file transfer with a workspace actor, one chunk window per message, so that neither the
/// API nor the actor ever holds a whole file. Uploads keep no state in the actor: chunks are
/// content-addressed deltas, and the version names them by hash when the upload finishes.
/// </summary>
public static class FileTransferProtocol
{
    // --- upload: BeginUpload, then UploadChunks as the bytes arrive, then FinishUpload

    /// <summary>Asked before any byte is read, so a member who may not write files is refused at once.</summary>
    public sealed record BeginUpload(string Name);

    /// <summary>
    /// Chunks in file order, as cut by <see cref="Core.Tools.ContentChunker"/>; each one the workspace
    /// does not hold yet is authored as a StoreChunk delta. Answered (<see cref="ChunksStored"/>) once
    /// durable: the uploader waits for it before sending more, which is the backpressure. Sent as
    /// the operations themselves: the uploader hashed each one to name it in the version, and the
    /// actor looks it up and indexes it by that same hash (one SHA-256 pass over the file fewer).
    /// </summary>
    public sealed record UploadChunks(IReadOnlyList<StoreChunk> Chunks);

    /// <summary>
    /// Stores the last window of chunks (<paramref name="LastChunks"/>, possibly none) and authors the
    /// version, in one write: a small file costs one write and one round trip. Every chunk the version
    /// names must then be in the workspace.
    /// </summary>
    public sealed record FinishUpload(string Name, long Size, byte[] ContentHash, IReadOnlyList<FileChunk> Chunks, IReadOnlyList<StoreChunk> LastChunks);

    // --- download: OpenDownload, then ReadChunks window by window

    /// <summary>Answered with the current version's chunk list, or refused if its content is not all here.</summary>
    public sealed record OpenDownload(string Name);

    /// <summary>The bytes of these chunks (by SHA-256), in order.</summary>
    public sealed record ReadChunks(IReadOnlyList<byte[]> Hashes);

    /// <summary>How many sealed deltas the replica's log holds, and their bytes (file content included, though it is in the chunk pack, not in memory).</summary>
    public sealed record GetLogSize;

    // --- replies
    public sealed class UploadAccepted
    {
        public static readonly UploadAccepted Instance = new();
        private UploadAccepted() { }
    }

    /// <param name="New">Chunks authored now (the others were in the workspace already).</param>
    /// <param name="NewBytes">Sealed bytes of the deltas authored now: what the members will be sent.</param>
    public sealed record ChunksStored(int New, long NewBytes);

    /// <summary>
    /// The version authored, the chunks (and their sealed bytes) the finishing message stored, and
    /// what the folder now shows at the file's path (the file, and conflict copies if any), so the
    /// uploader need not ask again.
    /// </summary>
    public sealed record UploadFinished(DeltaId Version, int New, long NewBytes, IReadOnlyList<Api.FileInfoView> Shown);

    public sealed record DownloadManifest(DeltaId Version, long Size, byte[] ContentHash, IReadOnlyList<FileChunk> Chunks);

    public sealed record ChunkData(IReadOnlyList<byte[]> Chunks);

    /// <param name="HeldInMemory">Bytes of file content the chunk pack keeps in memory: what this device just authored, until the next anti-entropy tick.</param>
    public sealed record LogSize(int Deltas, long Bytes, long HeldInMemory);
}

namespace ActorSync.Core.Replication;

/// <summary>
/// Where a replica keeps the sealed bytes of its StoreChunk deltas (file content), so that its log
/// holds only their headers and a <see cref="ChunkLocation"/>: a 1 GiB file is not 1 GiB of memory.
/// The replica stays free of I/O; the host injects a store (the peer's is a pack file on disk).
/// Bytes are stored exactly as sealed (ciphertext), so nothing new is plaintext at rest.
/// </summary>
public interface IChunkStore
{
    /// <summary>Keeps a sealed delta's bytes; they may not be durable until the host flushes the store.</summary>
    /// <param name="sealedBytes">Final: the store may keep this very array and hand it out from <see cref="Read"/>.</param>
    /// <param name="sendingSoon">
    /// The replica authored this delta and its members will be sent it next (an upload's chunks):
    /// a store may keep the bytes in memory for a while rather than read them back. False for what
    /// was received, which its author sends, not this replica.
    /// </param>
    ChunkLocation Append(byte[] sealedBytes, bool sendingSoon);

    /// <summary>The bytes appended at <paramref name="at"/>, exactly; callers must not write into the array.</summary>
    byte[] Read(ChunkLocation at);
}

/// <summary>Where a store put one sealed delta's bytes (an offset in its pack and the length).</summary>
public readonly record struct ChunkLocation(long Offset, int Length);

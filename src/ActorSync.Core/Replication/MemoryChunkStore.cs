namespace ActorSync.Core.Replication;

/// <summary>
/// A chunk store in memory: the default for a replica without a host (tests, the simulation, the
/// in-process demo), where holding file content in memory is what it always did.
/// </summary>
public sealed class MemoryChunkStore : IChunkStore
{
    private readonly List<byte[]> _chunks = [];

    public ChunkLocation Append(byte[] sealedBytes, bool sendingSoon)
    {
        _chunks.Add(sealedBytes);
        return new ChunkLocation(_chunks.Count - 1, sealedBytes.Length);
    }

    public byte[] Read(ChunkLocation at) => _chunks[(int)at.Offset];
}

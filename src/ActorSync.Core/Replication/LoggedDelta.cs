using System.Security.Cryptography;
using ActorSync.Core.Causality;
using ActorSync.Core.Deltas;

namespace ActorSync.Core.Replication;

/// <summary>
/// One applied delta as the replica's log keeps it: the whole <see cref="SealedDelta"/> in memory,
/// or, for file content, only its header, length and digest plus where a <see cref="IChunkStore"/>
/// holds its bytes (read on demand: sending, downloading, exporting).
/// </summary>
public sealed class LoggedDelta
{
    private LoggedDelta(DeltaHeader header, int length, SealedDelta? inMemory, ChunkLocation? stored, byte[]? digest)
    {
        Header = header;
        Length = length;
        InMemory = inMemory;
        Stored = stored;
        Sha256 = digest;
    }

    public DeltaHeader Header { get; }
    public DeltaId Id => Header.Id;

    /// <summary>Length of the sealed bytes.</summary>
    public int Length { get; }

    /// <summary>The delta itself, when the log holds it in memory.</summary>
    public SealedDelta? InMemory { get; }

    /// <summary>Where the chunk store holds the sealed bytes, when the log does not.</summary>
    public ChunkLocation? Stored { get; }

    /// <summary>SHA-256 of the sealed bytes, for a delta in the store (null for one held in memory).</summary>
    public byte[]? Sha256 { get; }

    public static LoggedDelta Held(SealedDelta delta) => new(delta.Header, delta.Bytes.Length, delta, null, null);

    /// <summary>The digest lets a duplicate be told from a replay (same id, other bytes) without reading the store.</summary>
    public static LoggedDelta InStore(SealedDelta delta, ChunkLocation at) =>
        new(delta.Header, delta.Bytes.Length, null, at, SHA256.HashData(delta.Bytes));

    /// <summary>A delta in the store known by header, length and digest only (recovered from an image).</summary>
    internal static LoggedDelta InStore(DeltaHeader header, int length, ChunkLocation at, byte[] digest) =>
        new(header, length, null, at, digest);

    /// <summary>Whether <paramref name="bytes"/> are exactly this delta's.</summary>
    public bool SameBytes(ReadOnlySpan<byte> bytes) => InMemory is { } held
        ? held.Bytes.AsSpan().SequenceEqual(bytes)
        : bytes.Length == Length && SHA256.HashData(bytes).AsSpan().SequenceEqual(Sha256);
}

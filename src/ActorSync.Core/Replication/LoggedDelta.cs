using ActorSync.Core.Causality;
using ActorSync.Core.Deltas;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Replication;

/// <summary>
/// One applied delta as the replica's log keeps it: the whole <see cref="SealedDelta"/> in memory,
/// or, for file content, only its header, length and digest plus where a <see cref="IChunkStore"/>
/// holds its bytes (read on demand: sending, downloading, exporting). A delta recovered from a
/// snapshot's image is kept as its sealed bytes with its id and kind, and parsed only when first
/// used: a snapshot is the replica's own (sealed, authenticated) record of bytes it verified, and
/// parsing 100,000 of them was most of the time to recover from one.
/// </summary>
public sealed class LoggedDelta
{
    private SealedDelta? _inMemory;
    private readonly byte[]? _unparsed;
    private DeltaHeader? _header;

    private LoggedDelta(DeltaId id, OpKind kind, DeltaHeader? header, int length, SealedDelta? inMemory, byte[]? unparsed, ChunkLocation? stored,
        byte[]? digest)
    {
        Id = id;
        Kind = kind;
        _header = header;
        Length = length;
        _inMemory = inMemory;
        _unparsed = unparsed;
        Stored = stored;
        Digest = digest;
    }

    public DeltaId Id { get; }

    /// <summary>The delta's operation kind (known without parsing it).</summary>
    public OpKind Kind { get; }

    public DeltaHeader Header => _header ??= InMemory!.Header;

    /// <summary>Length of the sealed bytes.</summary>
    public int Length { get; }

    /// <summary>The delta itself, when the log holds it in memory (parsed on first use if it came from an image).</summary>
    public SealedDelta? InMemory => _inMemory ??= _unparsed is null ? null : DeltaCodec.Decode(_unparsed);

    /// <summary>Where the chunk store holds the sealed bytes, when the log does not.</summary>
    public ChunkLocation? Stored { get; }

    /// <summary><see cref="SealedDelta.Digest"/> of the sealed bytes, for a delta in the store (null for one held in memory).</summary>
    public byte[]? Digest { get; }

    /// <summary>The sealed bytes held in memory, parsed or not (null for a delta in the store).</summary>
    public byte[]? HeldBytes => _inMemory?.Bytes ?? _unparsed;

    public static LoggedDelta Held(SealedDelta delta) => new(delta.Id, delta.Header.Kind, delta.Header, delta.Bytes.Length, delta, null, null, null);

    /// <summary>A delta's sealed bytes from an image, parsed when first used.</summary>
    internal static LoggedDelta Unparsed(DeltaId id, OpKind kind, byte[] bytes) => new(id, kind, null, bytes.Length, null, bytes, null, null);

    /// <summary>The digest lets a duplicate be told from a replay (same id, other bytes) without reading the store.</summary>
    public static LoggedDelta InStore(SealedDelta delta, ChunkLocation at) =>
        new(delta.Id, delta.Header.Kind, delta.Header, delta.Bytes.Length, null, null, at, delta.Digest());

    /// <summary>A delta in the store known by header, length and digest only (recovered from an image).</summary>
    internal static LoggedDelta InStore(DeltaHeader header, int length, ChunkLocation at, byte[] digest) =>
        new(header.Id, header.Kind, header, length, null, null, at, digest);

    /// <summary>Whether <paramref name="delta"/> has exactly this delta's bytes.</summary>
    public bool SameBytes(SealedDelta delta) => HeldBytes is { } held
        ? held.AsSpan().SequenceEqual(delta.Bytes)
        : delta.Bytes.Length == Length && delta.Digest().AsSpan().SequenceEqual(Digest);
}

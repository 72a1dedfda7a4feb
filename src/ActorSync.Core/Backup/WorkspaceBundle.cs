using System.Buffers.Binary;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Backup;

/// <summary>
/// What a workspace export holds before it is encrypted, and what the peer's API streams out and
/// takes in: <c>"ASWS" || version || workspace id (16) || records</c>, each record
/// <c>type (1) || u32 length || bytes</c>: the keyring (<see cref="Crypto.EpochKeyring.Export"/>) once,
/// then every applied sealed delta exactly as journaled (ciphertext, signed), then an end record
/// with the delta count, so a body cut short is never taken for a whole export. Version 2, for a
/// workspace whose log was pruned: an image record (<see cref="Replication.ImageLog.Transfer"/>: the
/// state the pruned deltas built, and the ids of the log left) after the keyring, and the deltas are
/// that log (each is checked against its signature and adopted, not applied again).
/// </summary>
public static class WorkspaceBundle
{
    public static ReadOnlySpan<byte> Magic => "ASWS"u8;
    public const byte Version = 1;
    public const byte PrunedVersion = 2;
    private const byte KeyringRecord = 1;
    private const byte DeltaRecord = 2;
    private const byte EndRecord = 3;
    private const byte ImageRecord = 4;
    private const int MaxKeyringSize = 1024 * 1024;
    private const int MaxImageSize = int.MaxValue - 1024;

    /// <summary>A read export: nothing in it is trusted yet (the peer re-verifies every delta; an image is taken as the export's own).</summary>
    public sealed record Contents(WorkspaceId Workspace, byte[] Keyring, IReadOnlyList<byte[]> Deltas, byte[]? Image = null);

    public static async Task WriteAsync(Stream destination, WorkspaceId workspace, ReadOnlyMemory<byte> keyring,
        IEnumerable<SealedDelta> deltas, CancellationToken ct, byte[]? image = null)
    {
        var start = new byte[Magic.Length + 1 + WorkspaceId.Size];
        Magic.CopyTo(start);
        start[Magic.Length] = image is null ? Version : PrunedVersion;
        workspace.WriteTo(start.AsSpan(Magic.Length + 1));
        await destination.WriteAsync(start, ct).ConfigureAwait(false);
        await Record(destination, KeyringRecord, keyring, ct).ConfigureAwait(false);
        if (image is { } state) await Record(destination, ImageRecord, state, ct).ConfigureAwait(false);
        ulong count = 0;
        foreach (var delta in deltas)
        {
            await Record(destination, DeltaRecord, delta.Bytes, ct).ConfigureAwait(false);
            count++;
        }
        var end = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(end, count);
        await Record(destination, EndRecord, end, ct).ConfigureAwait(false);
    }

    private static async Task Record(Stream destination, byte type, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var prefix = new byte[5];
        prefix[0] = type;
        BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), (uint)bytes.Length);
        await destination.WriteAsync(prefix, ct).ConfigureAwait(false);
        await destination.WriteAsync(bytes, ct).ConfigureAwait(false);
    }

    /// <summary>Reads a whole export; throws <see cref="WireFormatException"/> for anything else, including one cut short.</summary>
    public static async Task<Contents> ReadAsync(Stream source, CancellationToken ct)
    {
        var start = new byte[Magic.Length + 1 + WorkspaceId.Size];
        if (await source.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false) < start.Length
            || !start.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new WireFormatException("not a workspace export");
        var version = start[Magic.Length];
        if (version is not (Version or PrunedVersion)) throw new WireFormatException($"workspace export version {version} is not supported");
        var workspace = WorkspaceId.FromBytes(start.AsSpan(Magic.Length + 1));
        var (type, keyring) = await Next(source, MaxKeyringSize, ct).ConfigureAwait(false);
        if (type != KeyringRecord) throw new WireFormatException("workspace export: the keyring must come first");
        byte[]? image = null;
        if (version == PrunedVersion)
        {
            (type, image) = await Next(source, MaxImageSize, ct).ConfigureAwait(false);
            if (type != ImageRecord) throw new WireFormatException("workspace export: the image must follow the keyring");
        }
        var deltas = new List<byte[]>();
        while (true)
        {
            var (kind, bytes) = await Next(source, DeltaCodec.MaxDeltaSize, ct).ConfigureAwait(false);
            if (kind == DeltaRecord)
            {
                deltas.Add(bytes);
                continue;
            }
            if (kind != EndRecord || bytes.Length != 8) throw new WireFormatException("workspace export: unexpected record");
            if (BinaryPrimitives.ReadUInt64BigEndian(bytes) != (ulong)deltas.Count) throw new WireFormatException("workspace export: delta count does not match");
            break;
        }
        var extra = new byte[1];
        if (await source.ReadAsync(extra, ct).ConfigureAwait(false) != 0) throw new WireFormatException("workspace export: bytes after its end");
        return new Contents(workspace, keyring, deltas, image);
    }

    private static async Task<(byte Type, byte[] Bytes)> Next(Stream source, int maxLength, CancellationToken ct)
    {
        var prefix = new byte[5];
        if (await source.ReadAtLeastAsync(prefix, 5, throwOnEndOfStream: false, ct).ConfigureAwait(false) < 5)
            throw new WireFormatException("workspace export: cut short");
        var length = BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
        if (length > (uint)maxLength) throw new WireFormatException($"workspace export: a record of {length} bytes exceeds the limit of {maxLength}");
        var bytes = new byte[length];
        if (await source.ReadAtLeastAsync(bytes, bytes.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false) < bytes.Length)
            throw new WireFormatException("workspace export: cut short");
        return (prefix[0], bytes);
    }
}

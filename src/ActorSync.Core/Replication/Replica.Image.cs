using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Workspace;
using NSec.Cryptography;

namespace ActorSync.Core.Replication;

/// <summary>What a replica image carries of the log: everything as this device holds it, or only ids for an invitee to adopt.</summary>
public enum ImageLog
{
    /// <summary>This device's own snapshot: each logged delta whole, or by its place in the chunk store.</summary>
    Local,
    /// <summary>For an invitee: the log's ids only; the deltas follow as ordinary frames and are adopted (kept, not applied again).</summary>
    Transfer,
}

public sealed partial class Replica
{
    private const byte ImageVersion = 1;
    private readonly HashSet<DeltaId> _adoptable = [];
    private VersionVector _prunedMax = VersionVector.Empty;

    /// <summary>Deltas the state covers whose bytes this replica still waits for (an image's log, sent after it).</summary>
    public IReadOnlyCollection<DeltaId> Adoptable => _adoptable;

    /// <summary>
    /// The whole replica as bytes (plaintext state: the caller seals it, <see cref="ImageSeal"/>). The
    /// keyring's keys are not in it, only the public commitments; the caller wraps the keys.
    /// </summary>
    public byte[] WriteImage(ImageLog log)
    {
        var w = new WireWriter(64 * 1024 + _order.Count * 64);
        w.Byte(ImageVersion);
        Span<byte> ws = stackalloc byte[WorkspaceId.Size];
        Id.WriteTo(ws);
        w.Raw(ws);
        State.WriteImage(w);
        Keyring.WriteCommitments(w);
        w.VarUInt((ulong)_rejected.Count);
        foreach (var (id, reason) in _rejected.OrderBy(r => r.Key))
        {
            id.Write(w);
            w.String(reason);
        }
        w.VarUInt((ulong)_heads.Count);
        foreach (var head in _heads) head.Write(w);
        w.UInt64Fixed(_clock.Last.Packed);
        _prunedMax.Write(w);
        w.VarUInt((ulong)_deviceKeys.Count);
        foreach (var (device, key) in _deviceKeys.OrderBy(k => k.Key))
        {
            new DeltaId(device, 1).Write(w);
            w.Bytes(key.Export(KeyBlobFormat.RawPublicKey));
        }
        w.Byte((byte)log);
        if (log == ImageLog.Transfer)
        {
            // Own sequence numbers are not the invitee's: it starts its own device's count.
            w.VarUInt((ulong)(_order.Count + _adoptable.Count));
            foreach (var id in _order.Concat(_adoptable)) id.Write(w);
            return w.ToArray();
        }
        w.VarUInt(_nextSeq);
        w.VarUInt((ulong)_order.Count);
        foreach (var id in _order) WriteLogged(w, _log[id]);
        w.VarUInt((ulong)_adoptable.Count);
        foreach (var id in _adoptable) id.Write(w);
        w.VarUInt((ulong)_parked.Count);
        foreach (var parked in _parked.Values) w.Bytes(parked.Delta.Bytes);
        return w.ToArray();
    }

    private static void WriteLogged(WireWriter w, LoggedDelta logged)
    {
        if (logged.HeldBytes is { } held)
        {
            // Id and kind beside the bytes: the reader keeps them unparsed until first used.
            w.Byte(2);
            logged.Id.Write(w);
            w.Byte((byte)logged.Kind);
            w.Bytes(held);
            return;
        }
        var header = new WireWriter(256);
        DeltaCodec.WriteHeader(header, logged.Header);
        w.Byte(1);
        w.Bytes(header.WrittenSpan);
        w.VarUInt((ulong)logged.Length);
        w.VarUInt((ulong)logged.Stored!.Value.Offset);
        w.VarUInt((ulong)logged.Stored.Value.Length);
        w.Raw(logged.Digest);
    }

    /// <summary>
    /// A replica from an image. Local images come from this device's snapshot store; a transfer image
    /// from the member that invited this account (sealed for it and signed). Either way the bytes are
    /// parsed with bounds; a damaged image throws <see cref="WireFormatException"/>.
    /// </summary>
    public static Replica FromImage(ReadOnlySpan<byte> image, AccountIdentity account, DeviceIdentity device, EpochKeyring keyring,
        IChunkStore? chunks = null)
    {
        var r = new WireReader(image);
        if (r.Byte("image version") != ImageVersion) throw new WireFormatException("image: unknown version");
        var id = WorkspaceId.FromBytes(r.Raw(WorkspaceId.Size, "image workspace"));
        var state = WorkspaceState.ReadImage(id, ref r);
        var replica = new Replica(state, account, device, keyring, DefaultBufferCapacity, chunks);
        keyring.ReadCommitments(ref r);
        var rejected = r.Count(ImageLimits.MaxItems, "rejected");
        for (var i = 0; i < rejected; i++) replica._rejected[DeltaId.Read(ref r)] = r.String(ImageLimits.MaxText, "rejection");
        var heads = r.Count(ImageLimits.MaxItems, "heads");
        for (var i = 0; i < heads; i++) replica._heads.Add(DeltaId.Read(ref r));
        replica._clock.Observe(new HlcTimestamp(r.UInt64Fixed("clock")));
        replica._prunedMax = VersionVector.Read(ref r);
        var keys = r.Count(ImageLimits.MaxItems, "device keys");
        for (var i = 0; i < keys; i++)
        {
            var keyDevice = DeltaId.Read(ref r).Device;
            var raw = r.Bytes(64, "device key");
            if (Signing.TryImportPublicKey(raw) is not { } key || DeviceId.FromSigningKey(raw) != keyDevice)
                throw new WireFormatException("image: a device key does not match its device");
            replica._deviceKeys[keyDevice] = key;
        }
        var mode = (ImageLog)r.Byte("image log mode");
        if (mode == ImageLog.Transfer)
        {
            var count = r.Count(ImageLimits.MaxItems, "image log");
            for (var i = 0; i < count; i++)
            {
                var logged = DeltaId.Read(ref r);
                if (!state.IsApplied(logged)) throw new WireFormatException("image: its log names a delta its state does not cover");
                replica._adoptable.Add(logged);
            }
            replica._nextSeq = state.Applied[device.Id] + 1;
        }
        else if (mode == ImageLog.Local)
        {
            replica._nextSeq = r.VarUInt("next seq");
            var count = r.Count(ImageLimits.MaxItems, "image log");
            // Sized for the count, but never beyond what the bytes left could hold (24 each at least: kind, id, op, length).
            var capacity = Math.Min(count, r.Remaining / 24);
            replica._log.EnsureCapacity(capacity);
            replica._order.EnsureCapacity(capacity);
            for (var i = 0; i < count; i++)
            {
                var logged = ReadLogged(ref r);
                if (!state.IsApplied(logged.Id)) throw new WireFormatException("image: its log names a delta its state does not cover");
                replica._log[logged.Id] = logged;
                replica._order.Add(logged.Id);
            }
            var adoptable = r.Count(ImageLimits.MaxItems, "adoptable");
            for (var i = 0; i < adoptable; i++) replica._adoptable.Add(DeltaId.Read(ref r));
            var parked = r.Count(ImageLimits.MaxItems, "parked");
            for (var i = 0; i < parked; i++)
            {
                var delta = DeltaCodec.Decode(r.Bytes(DeltaCodec.MaxDeltaSize, "parked delta").ToArray());
                replica._parked[delta.Id] = new Candidate(delta, true);
            }
        }
        else
        {
            throw new WireFormatException("image: unknown log mode");
        }
        r.ExpectEnd("image");
        return replica;
    }

    private static LoggedDelta ReadLogged(ref WireReader r)
    {
        var kind = r.Byte("logged kind");
        if (kind == 2)
        {
            var id = DeltaId.Read(ref r);
            var op = (Operations.OpKind)r.Byte("logged op kind");
            if (!Enum.IsDefined(op)) throw new WireFormatException("logged delta: unknown operation kind");
            return LoggedDelta.Unparsed(id, op, r.Bytes(DeltaCodec.MaxDeltaSize, "logged delta").ToArray());
        }
        if (kind != 1) throw new WireFormatException("logged delta: unknown kind");
        var headerBytes = r.Bytes(DeltaCodec.MaxDeltaSize, "logged header");
        var hr = new WireReader(headerBytes);
        var header = DeltaCodec.ReadHeader(ref hr);
        hr.ExpectEnd("logged header");
        var length = (int)r.VarUInt("logged length");
        var at = new ChunkLocation((long)r.VarUInt("chunk offset"), (int)r.VarUInt("chunk length"));
        return LoggedDelta.InStore(header, length, at, r.Raw(32, "logged digest").ToArray());
    }
}

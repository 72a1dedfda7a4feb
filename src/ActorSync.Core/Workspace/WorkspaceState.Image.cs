using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Tools;

namespace ActorSync.Core.Workspace;

/// <summary>
/// The state as an image: what a snapshot holds so the deltas it covers can leave the journal, and
/// what a member hands an invitee once the deltas are gone. Per-delta closures and times are kept
/// whole (a late delta concurrent with pruned ones is still checked against its exact causal past),
/// written compactly: per author device in sequence order, each closure as its change from the
/// previous one (a delta depends on its author's previous, so closures only grow along a device).
/// </summary>
public sealed partial class WorkspaceState
{
    internal void WriteImage(WireWriter w)
    {
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        var devices = _applied.Entries.Select(e => e.Device).ToList();
        var index = new Dictionary<DeviceId, int>(devices.Count);
        w.VarUInt((ulong)devices.Count);
        foreach (var (device, seq) in _applied.Entries)
        {
            index[device] = index.Count;
            device.Value.WriteTo(raw);
            w.Raw(raw);
            w.VarUInt(seq);
        }
        var changed = new List<(int Device, ulong Seq)>();
        foreach (var (device, top) in _applied.Entries)
        {
            var previous = VersionVector.Empty;
            ulong previousTime = 0;
            for (ulong seq = 1; seq <= top; seq++)
            {
                var id = new DeltaId(device, seq);
                var (closure, time) = _closures[id];
                changed.Clear();
                if (!ReferenceEquals(closure, previous))
                    foreach (var (d, s) in closure.Entries)
                        if (previous[d] != s) changed.Add((index[d], s));
                w.VarUInt((ulong)changed.Count);
                foreach (var (d, s) in changed)
                {
                    w.VarUInt((ulong)d);
                    w.VarUInt(s);
                }
                w.VarUInt(time.Packed - previousTime);
                previous = closure;
                previousTime = time.Packed;
            }
        }
        w.VarUInt((ulong)Admin.Events.Count);
        foreach (var e in Admin.Events) WriteAdminEvent(w, e);
        w.VarUInt((ulong)_entryTools.Count);
        foreach (var (name, tool) in _entryTools)
        {
            w.String(name);
            tool.WriteImage(w);
        }
        w.VarUInt((ulong)_fileTools.Count);
        foreach (var (name, tool) in _fileTools)
        {
            w.String(name);
            tool.WriteImage(w);
        }
    }

    internal static WorkspaceState ReadImage(WorkspaceId id, ref WireReader r)
    {
        var state = new WorkspaceState(id);
        var deviceCount = r.Count(ImageLimits.MaxDevices, "image devices");
        var devices = new (DeviceId Device, ulong Top)[deviceCount];
        for (var i = 0; i < deviceCount; i++)
        {
            devices[i] = (new DeviceId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "image device"))), r.VarUInt("image seq"));
            if (devices[i].Top == 0 || devices[i].Top > ImageLimits.MaxItems) throw new WireFormatException("image: a device's sequence is out of range");
        }
        // Closures are rebuilt over the device table (sorted, as the applied vector it was written from).
        var table = devices.Select(d => d.Device).ToArray();
        for (var i = 1; i < table.Length; i++)
            if (table[i - 1].CompareTo(table[i]) >= 0) throw new WireFormatException("image: devices not strictly sorted");
        var total = devices.Aggregate(0UL, (sum, d) => sum + d.Top);
        if (total > ImageLimits.MaxItems) throw new WireFormatException("image: too many deltas");
        // Each delta takes at least two bytes below: a forged count cannot reserve more than the image could fill.
        var capacity = (int)Math.Min(total, (ulong)r.Remaining / 2);
        state._closures.EnsureCapacity(capacity);
        var seqs = new ulong[deviceCount];
        for (var index = 0; index < deviceCount; index++)
        {
            var (device, top) = devices[index];
            Array.Clear(seqs);
            ulong previousTime = 0;
            var previous = VersionVector.Empty;
            for (ulong seq = 1; seq <= top; seq++)
            {
                var changes = r.Count(deviceCount, "closure changes");
                var closure = previous;
                if (changes > 0)
                {
                    for (var c = 0; c < changes; c++)
                    {
                        var at = r.VarUInt("closure device");
                        if (at >= (ulong)deviceCount) throw new WireFormatException("closure: unknown device");
                        seqs[at] = r.VarUInt("closure seq");
                    }
                    closure = VersionVector.FromTable(table, seqs);
                }
                var did = new DeltaId(device, seq);
                if (seqs[index] < seq) throw new WireFormatException("closure: a delta's closure must hold the delta");
                previousTime += r.VarUInt("delta time");
                state._closures[did] = (closure, new HlcTimestamp(previousTime));
                previous = closure;
            }
        }
        state._applied = VersionVector.From(devices.Select(d => KeyValuePair.Create(d.Device, d.Top)));
        state.AppliedCount = state._closures.Count;
        var adminCount = r.Count(ImageLimits.MaxItems, "admin events");
        for (var i = 0; i < adminCount; i++) state.Admin.Add(ReadAdminEvent(ref r));
        var entryTools = r.Count(ImageLimits.MaxItems, "entry tools");
        for (var i = 0; i < entryTools; i++) state._entryTools[r.String(ToolId.MaxLength, "tool")] = EntryTool.ReadImage(ref r, state.IsApplied);
        var fileTools = r.Count(ImageLimits.MaxItems, "file tools");
        for (var i = 0; i < fileTools; i++) state._fileTools[r.String(ToolId.MaxLength, "tool")] = FileTool.ReadImage(ref r);
        return state;
    }

    private static void WriteAdminEvent(WireWriter w, AdminEvent e)
    {
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        var m = e.Meta;
        m.Id.Write(w);
        m.Author.Value.WriteTo(raw);
        w.Raw(raw);
        w.UInt64Fixed(m.Time.Packed);
        w.String(m.Tool.Value);
        m.Past.Write(w);
        m.Epoch.Write(w);
        w.Bool(m.Keys is not null);
        m.Keys?.Write(w);
        w.Bytes(OpCodec.Encode(e.Op));
    }

    private static AdminEvent ReadAdminEvent(ref WireReader r)
    {
        var id = DeltaId.Read(ref r);
        var author = new AccountId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "admin author")));
        var time = new HlcTimestamp(r.UInt64Fixed("admin time"));
        var tool = r.String(ToolId.MaxLength, "admin tool");
        if (!ToolId.IsValid(tool)) throw new WireFormatException("admin tool: invalid");
        var past = VersionVector.Read(ref r);
        var epoch = EpochId.Read(ref r);
        var keys = r.Bool("admin keys") ? KeyGrant.Read(ref r) : null;
        var op = OpCodec.Decode(r.Bytes(ImageLimits.MaxText, "admin operation"));
        if (!op.IsAdministrative) throw new WireFormatException("admin event: not an administrative operation");
        // As in a delta header: exactly the epoch-opening operations carry a key grant (the fold reads it).
        if (Deltas.DeltaHeader.OpensEpoch(op.Kind) != (keys is not null)) throw new WireFormatException("admin event: a key grant where none belongs, or none where one must be");
        return new AdminEvent(new DeltaMeta(id, author, time, new ToolId(tool), past, epoch, keys), op);
    }
}

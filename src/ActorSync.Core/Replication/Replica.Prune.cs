using ActorSync.Core.Causality;
using ActorSync.Core.Deltas;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Replication;

/// <summary>
/// Log pruning (ARCHITECTURE section 5). A delta every active member device holds is needed by
/// nobody but a future invitee, who gets an image instead; its bytes leave the log (and, once a
/// snapshot covers them, the journal). The state keeps every delta's closure and time, so rules
/// are checked exactly as before. Kept whatever happens: administrative deltas (few, small, the
/// membership's signed record) and file content (a later version may reuse a chunk by its hash).
/// </summary>
public sealed partial class Replica
{
    /// <summary>Per device, the highest sequence number pruned: a member below it anywhere cannot be served from the log.</summary>
    public VersionVector PrunedMax => _prunedMax;

    /// <summary>Whether <paramref name="theirs"/> lacks a delta this replica pruned (such a device needs an image, not deltas).</summary>
    /// <param name="within">Only deltas within this vector count (what a removed device may still be given).</param>
    public bool LacksPruned(VersionVector theirs, VersionVector? within = null)
    {
        foreach (var (device, seq) in _prunedMax.Entries)
            if (theirs[device] < (within is null ? seq : Math.Min(seq, within[device]))) return true;
        return false;
    }

    public static bool Prunable(OpKind kind) => kind >= OpKind.CreateEntry && kind != OpKind.StoreChunk;

    /// <summary>Drops from the log every prunable delta <paramref name="heldByAll"/> says all active member devices hold; returns how many.</summary>
    public int Prune(Func<DeltaId, bool> heldByAll)
    {
        var kept = new List<DeltaId>(_order.Count);
        var pruned = new Dictionary<Identity.DeviceId, ulong>();
        foreach (var id in _order)
        {
            if (!Prunable(_log[id].Kind) || !heldByAll(id))
            {
                kept.Add(id);
                continue;
            }
            _log.Remove(id);
            if (pruned.GetValueOrDefault(id.Device) < id.Seq) pruned[id.Device] = id.Seq;
        }
        if (pruned.Count == 0) return 0;
        var count = _order.Count - kept.Count;
        _order.Clear();
        _order.AddRange(kept);
        _prunedMax = _prunedMax.Merge(VersionVector.From(pruned));
        return count;
    }

    /// <summary>Stops waiting for deltas of an image's log that its sender says were pruned (every member holds them; nobody sends them).</summary>
    public void ForgetAdoptable(IEnumerable<DeltaId> ids)
    {
        foreach (var id in ids) _adoptable.Remove(id);
    }

    /// <summary>
    /// A delta the state already covers but the log lacks: an image's log, sent after it. Kept once
    /// its signature checks out against the device key the image knows, never applied again.
    /// </summary>
    private List<ReceiveOutcome>? TryAdopt(SealedDelta delta, bool trusted, ChunkLocation? stored)
    {
        var h = delta.Header;
        if (!_adoptable.Contains(h.Id)) return null;
        if (!trusted && (KnownKey(h) is not { } key || !DeltaCrypto.VerifySignature(delta, key, _verifiedRoots)))
            return [new ReceiveOutcome(h.Id, ReceiveStatus.Dropped, "bad signature")];
        _adoptable.Remove(h.Id);
        _log[h.Id] = ToLog(delta, stored);
        _order.Add(h.Id);
        return [new ReceiveOutcome(h.Id, ReceiveStatus.Adopted)];
    }
}

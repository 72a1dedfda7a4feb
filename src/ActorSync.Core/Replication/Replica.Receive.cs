using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Workspace;
using NSec.Cryptography;

namespace ActorSync.Core.Replication;

public sealed partial class Replica
{
    /// <summary>How many different deltas claiming one id may wait in the buffer; the genuine one must not be crowded out by a forgery.</summary>
    public const int MaxCandidatesPerId = 4;

    private readonly Dictionary<DeviceId, PublicKey> _deviceKeys = [];

    /// <summary>Tree roots verified here: the rest of a tree's deltas are not verified again.</summary>
    private readonly VerifiedRoots _verifiedRoots = new();

    /// <summary>
    /// Takes in one delta from anyone. Returns its outcome first, then the outcomes of buffered or
    /// parked deltas it made ready. A delta that cannot be attributed to a known device is dropped
    /// without trace, and a delta that waits for its dependencies before its author is known waits
    /// beside any other candidates for its id, so a forgery cannot burn a real delta's id. A delta
    /// that is attributed but breaks a rule is rejected for good, identically on every replica.
    /// </summary>
    public List<ReceiveOutcome> Receive(SealedDelta delta) => Receive(delta, trusted: false, stored: null);

    /// <summary>
    /// Replays a delta from this replica's own journal, which holds only deltas it applied after
    /// checking their signatures: every rule is applied again, but signatures are not verified a
    /// second time (verification is ~80% of a delta's cost; recovering 100,000 deltas spent ~3.5 s
    /// on it). Never for bytes from the network: whoever can write the journal file can already
    /// replace the program that reads it.
    /// </summary>
    /// <remarks>
    /// <paramref name="stored"/>: where the chunk store already holds the delta's bytes (read back
    /// from there by the host); the log then keeps only that location. A delta recovered without
    /// one stays in memory as it was journaled (nothing is copied to the store on every start).
    /// </remarks>
    public List<ReceiveOutcome> Recover(SealedDelta delta, ChunkLocation? stored = null) =>
        Receive(delta, trusted: true, stored ?? KeepInMemory);

    /// <summary>Marks a recovered delta that has no place in the chunk store: keep it in memory.</summary>
    private static readonly ChunkLocation KeepInMemory = new(-1, -1);

    /// <summary>A delta this replica authored alone: file content goes to the store as for any delta, marked as sent to the members next.</summary>
    private static readonly ChunkLocation StoreOwn = new(-2, -2);

    /// <param name="verdict">The signature check's result if it was already made (ReceiveAll), used where this delta's signature is checked early.</param>
    /// <param name="opened">The operation sealed in the delta, when the caller sealed it itself (its author): not decrypted again.</param>
    private List<ReceiveOutcome> Receive(SealedDelta delta, bool trusted, ChunkLocation? stored, bool? verdict = null, DeltaOp? opened = null)
    {
        var outcomes = new List<ReceiveOutcome>(1);
        var h = delta.Header;
        if (h.Workspace != Id) return Single(outcomes, h.Id, ReceiveStatus.Dropped, "another workspace's delta");
        if (_log.TryGetValue(h.Id, out var known))
        {
            return known.SameBytes(delta)
                ? Single(outcomes, h.Id, ReceiveStatus.Duplicate)
                : Single(outcomes, h.Id, ReceiveStatus.Dropped, "replay: a different delta under an id already applied");
        }
        if (_adoptable.Count > 0 && TryAdopt(delta, trusted, stored) is { } adopted) return adopted;
        // Covered by the state but out of the log (pruned, or in an image this replica started from).
        if (State.IsApplied(h.Id)) return Single(outcomes, h.Id, ReceiveStatus.Duplicate);
        if (_rejected.ContainsKey(h.Id) || _parked.ContainsKey(h.Id)) return Single(outcomes, h.Id, ReceiveStatus.Duplicate);
        // Where the device is already known, check the signature before the delta may occupy anything.
        var verified = trusted;
        if (!trusted && KnownKey(h) is { } earlyKey)
        {
            if (!(verdict ?? DeltaCrypto.VerifySignature(delta, earlyKey, _verifiedRoots))) return Single(outcomes, h.Id, ReceiveStatus.Dropped, "bad signature");
            verified = true;
        }
        if (_buffer.TryGet(h.Id, out var candidates))
        {
            if (candidates.Any(c => c.Delta.Bytes.AsSpan().SequenceEqual(delta.Bytes))) return Single(outcomes, h.Id, ReceiveStatus.Duplicate);
            if (candidates.Count >= MaxCandidatesPerId) return Single(outcomes, h.Id, ReceiveStatus.Dropped, "too many candidates for one id");
            candidates.Add(new Candidate(delta, verified, stored, opened));
            return Single(outcomes, h.Id, ReceiveStatus.Buffered);
        }

        var work = new Queue<List<Candidate>>();
        var missing = new List<DeltaId>();
        foreach (var dep in h.AllDependencies)
            if (!State.IsApplied(dep) && !_rejected.ContainsKey(dep)) missing.Add(dep);
        if (missing.Count > 0)
        {
            if (!_buffer.Add(h.Id, [new Candidate(delta, verified, stored, opened)], missing))
                return Single(outcomes, h.Id, ReceiveStatus.Dropped, "causal buffer full");
            outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Buffered));
            // A key grant may be what the missing dependencies wait for (see TakeEarlyKeys).
            if (verified && TakeEarlyKeys(h, work))
                while (work.TryDequeue(out var ready)) ProcessCandidates(ready, outcomes, work);
            return outcomes;
        }
        work.Enqueue([new Candidate(delta, verified, stored, opened)]);
        while (work.TryDequeue(out var next)) ProcessCandidates(next, outcomes, work);
        return outcomes;
    }

    private static List<ReceiveOutcome> Single(List<ReceiveOutcome> outcomes, DeltaId id, ReceiveStatus status, string? reason = null)
    {
        outcomes.Add(new ReceiveOutcome(id, status, reason));
        return outcomes;
    }

    /// <summary>The public key of the header's device if any card this replica knows lists it (a device id is its key's fingerprint, so any listing will do).</summary>
    private PublicKey? KnownKey(DeltaHeader h)
    {
        if (_deviceKeys.TryGetValue(h.Device, out var key)) return key;
        var device = State.Current.CardOf(h.Author)?.FindDevice(h.Device);
        if (device is null || Signing.TryImportPublicKey(device.PublicKey) is not { } imported) return null;
        _deviceKeys[h.Device] = imported;
        return imported;
    }

    /// <summary>The public key of a listed device (remembered: a device id is its key's fingerprint, so it never changes).</summary>
    private PublicKey? KeyOf(CardDevice device)
    {
        if (_deviceKeys.TryGetValue(device.Id, out var key)) return key;
        if (Signing.TryImportPublicKey(device.PublicKey) is not { } imported) return null;
        _deviceKeys[device.Id] = imported;
        return imported;
    }

    /// <summary>Tries the candidates for one id in arrival order; the first that can be attributed decides the id's fate.</summary>
    private void ProcessCandidates(List<Candidate> candidates, List<ReceiveOutcome> outcomes, Queue<List<Candidate>> work)
    {
        foreach (var candidate in candidates)
            if (Process(candidate, outcomes, work)) return;
    }

    /// <summary>
    /// A delta waiting for its turn, whether its signature was already checked (verification is most
    /// of a delta's cost), where the chunk store holds it when recovered from there, and its
    /// operation when this replica sealed it (decrypting one's own 64 KiB chunk again was ~10% of
    /// storing a large file).
    /// </summary>
    private readonly record struct Candidate(SealedDelta Delta, bool Verified, ChunkLocation? Stored = null, DeltaOp? Opened = null);

    /// <summary>False when the delta could not be attributed to a known device (dropped, id still free).</summary>
    private bool Process(Candidate candidate, List<ReceiveOutcome> outcomes, Queue<List<Candidate>> work)
    {
        var (delta, verified, stored, opened) = candidate;
        var h = delta.Header;
        var rejectedDependency = h.AllDependencies.Any(_rejected.ContainsKey);
        var past = rejectedDependency ? null : State.PastOf(h)!;
        // With a rejected dependency the past is undefined: any card this replica knows may attribute the delta.
        var admin = past is null ? State.Current : State.Admin.At(past);
        DeltaOp? op = null;
        if (h.Kind == OpKind.CreateWorkspace && !rejectedDependency)
        {
            // The genesis carries the creator's card inside its payload: decrypt first, then verify with it.
            if (DeltaCrypto.TryDecrypt(delta, Keyring, out op) is not OpenFailure.None || op is not CreateWorkspace create
                || create.Creator.FindDevice(h.Device) is not { } device
                || Signing.TryImportPublicKey(device.PublicKey) is not { } key || !DeltaCrypto.VerifySignature(delta, key, _verifiedRoots))
                return Dropped(outcomes, h.Id, "unverifiable workspace creation");
            TakeKeyGrant(h, work);
        }
        else
        {
            if (admin.CardOf(h.Author)?.FindDevice(h.Device) is not { } listed) return Dropped(outcomes, h.Id, "unknown author or device");
            // The key of the device as the delta's causal past lists it: a device since dropped
            // from its member's card still signed what it wrote before (judged at the causal past,
            // as every rule is). KnownKey alone would find it only on replicas that happened to
            // meet the device before the card changed, and replicas would disagree.
            if (!verified && (KeyOf(listed) is not { } key || !DeltaCrypto.VerifySignature(delta, key, _verifiedRoots))) return Dropped(outcomes, h.Id, "bad signature");
            if (past is null)
            {
                RejectForGood(h.Id, "depends on a rejected delta", outcomes, work);
                return true;
            }
            if (h.AllDependencies.Any(dep => State.TimeOf(dep) >= h.Time))
            {
                RejectForGood(h.Id, "its time is not after its dependencies'", outcomes, work);
                return true;
            }
            if (h.Epoch != admin.Epoch)
            {
                RejectForGood(h.Id, "stale key epoch", outcomes, work);
                return true;
            }
            // Before decrypting: the grant may hand this replica the very key the delta is sealed under.
            TakeKeyGrant(h, work);
            op = opened;
            var failure = op is not null ? OpenFailure.None : DeltaCrypto.TryDecrypt(delta, Keyring, out op);
            // A rotation waiting behind this very delta may hand over its key (see TakeEarlyKeys).
            if (failure == OpenFailure.NoKeyForEpoch && TakeWaitingGrants()) failure = DeltaCrypto.TryDecrypt(delta, Keyring, out op);
            if (failure == OpenFailure.NoKeyForEpoch)
            {
                _parked[h.Id] = candidate;
                outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Parked, "no key for its epoch yet"));
                return true;
            }
            if (failure != OpenFailure.None)
            {
                RejectForGood(h.Id, "payload " + failure, outcomes, work);
                return true;
            }
        }
        Accept(delta, stored, past!, admin, op!, outcomes, work);
        return true;
    }

    private static bool Dropped(List<ReceiveOutcome> outcomes, DeltaId id, string reason)
    {
        outcomes.Add(new ReceiveOutcome(id, ReceiveStatus.Dropped, reason));
        return false;
    }

    private void Accept(SealedDelta delta, ChunkLocation? stored, VersionVector past, AdminState admin, DeltaOp op, List<ReceiveOutcome> outcomes,
        Queue<List<Candidate>> work)
    {
        var h = delta.Header;
        if (State.Check(h, past, admin, op) is { } reason)
        {
            RejectForGood(h.Id, reason, outcomes, work);
            return;
        }
        State.Apply(h, past, admin, op);
        _waitingGrants.Remove(h.Id);
        _log[h.Id] = ToLog(delta, stored);
        _order.Add(h.Id);
        _clock.Observe(h.Time);
        _heads.RemoveWhere(past.Contains);
        _heads.Add(h.Id);
        if (h.Device == Device && h.Seq >= _nextSeq) _nextSeq = h.Seq + 1;
        outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Applied));
        foreach (var (_, ready) in _buffer.Release(h.Id)) work.Enqueue(ready);
    }

    /// <summary>
    /// Records the commitment of the epoch an attributed delta opens and takes the keys wrapped for
    /// this account, but only keys of epochs whose opening this replica has seen and whose
    /// commitment they match: a hostile member cannot plant a key for someone else's epoch.
    /// </summary>
    private void TakeKeyGrant(DeltaHeader h, Queue<List<Candidate>> work)
    {
        if (h.Keys is null) return;
        Keyring.RecordCommitment(EpochId.OpenedBy(h.Id), h.Keys.Commitment);
        var mine = h.Keys.Wrapped.FirstOrDefault(k => k.Recipient == Account);
        if (mine is null) return;
        try
        {
            if (Keyring.Import(KeyWrap.Unwrap(mine.Wrapped, _account.Agreement, Invitation.KeyContext(Id)), committedOnly: true) == 0) return;
        }
        catch (WireFormatException)
        {
            return; // a wrapped key that is not ours to open: we stay without it, and stay parked
        }
        // New keys may open deltas that were waiting for them.
        var retry = _parked.Values.Where(c => Keyring.Has(c.Delta.Header.Epoch)).ToList();
        foreach (var c in retry)
        {
            _parked.Remove(c.Delta.Id);
            work.Enqueue([c with { Verified = true }]);
        }
    }

    /// <summary>
    /// Takes keys wrapped for this account from the grant of a delta that still waits for its
    /// dependencies, when its signature is already verified, and only keys of epochs whose opening
    /// this replica has applied (committed ones: the grant cannot plant anything). Without it a
    /// member invited concurrently with a new epoch could never read that epoch: the deltas sealed
    /// under it are parked (no key), and the rotation that wraps the key for it depends on them, so
    /// it waits behind them in the buffer for good (found by actorsync sim partitions --seed 7).
    /// The epoch the grant opens itself is left to the normal path, once the delta is applied.
    /// True when parked deltas were queued again.
    /// </summary>
    private bool TakeEarlyKeys(DeltaHeader h, Queue<List<Candidate>> work)
    {
        if (h.Keys is null) return false;
        var mine = h.Keys.Wrapped.FirstOrDefault(k => k.Recipient == Account);
        if (mine is null) return false;
        // Kept while it waits: a delta it depends on may arrive later and need its keys (TakeWaitingGrants).
        _waitingGrants[h.Id] = h;
        if (_parked.Count == 0) return false;
        try
        {
            if (Keyring.Import(KeyWrap.Unwrap(mine.Wrapped, _account.Agreement, Invitation.KeyContext(Id)), committedOnly: true) == 0) return false;
        }
        catch (WireFormatException)
        {
            return false;
        }
        var retry = _parked.Values.Where(c => Keyring.Has(c.Delta.Header.Epoch)).ToList();
        foreach (var c in retry)
        {
            _parked.Remove(c.Delta.Id);
            work.Enqueue([c with { Verified = true }]);
        }
        return retry.Count > 0;
    }

    /// <summary>
    /// Verified key grants for this account on deltas still waiting in the causal buffer. When the
    /// healing rotation arrives before the delta it depends on, nothing is parked yet and
    /// <see cref="TakeEarlyKeys"/> cannot know which key will be needed (or the epoch's opening is
    /// not applied yet, so its key is not committed): a delta about to be parked for want of a key
    /// first tries these grants, or the rotation would wait behind it for good.
    /// </summary>
    private readonly Dictionary<DeltaId, DeltaHeader> _waitingGrants = [];

    /// <summary>Takes the committed keys of every waiting grant for this account; true when the keyring took any.</summary>
    private bool TakeWaitingGrants()
    {
        var added = 0;
        foreach (var h in _waitingGrants.Values)
        {
            var mine = h.Keys!.Wrapped.First(k => k.Recipient == Account);
            try
            {
                added += Keyring.Import(KeyWrap.Unwrap(mine.Wrapped, _account.Agreement, Invitation.KeyContext(Id)), committedOnly: true);
            }
            catch (WireFormatException)
            {
                // not ours to open
            }
        }
        return added > 0;
    }

    /// <summary>
    /// File content goes to the chunk store and the log keeps its place; everything else (small,
    /// and read by the rules) stays in memory, and so does content smaller than
    /// <see cref="StoreChunksFrom"/>: a store write must be made durable before the journal's, and
    /// one extra fsync per small file cost more (1,000 files of 1 KiB: 1.2 -> 2.1 s) than holding a
    /// few KiB in memory does. A delta recovered from the store is not stored again.
    /// </summary>
    private LoggedDelta ToLog(SealedDelta delta, ChunkLocation? stored)
    {
        if (stored == KeepInMemory) return LoggedDelta.Held(delta);
        var own = stored == StoreOwn;
        if (!own && stored is { } at) return LoggedDelta.InStore(delta, at);
        return delta.Header.Kind == OpKind.StoreChunk && delta.Bytes.Length >= StoreChunksFrom
            ? LoggedDelta.InStore(delta, _chunks.Append(delta.Bytes, sendingSoon: own))
            : LoggedDelta.Held(delta);
    }

    /// <summary>Sealed chunk deltas at least this long go to the chunk store (content-defined chunks are 16 KiB and up, except a file's last).</summary>
    public const int StoreChunksFrom = 8 * 1024;

    private void RejectForGood(DeltaId id, string reason, List<ReceiveOutcome> outcomes, Queue<List<Candidate>> work)
    {
        _rejected[id] = reason;
        _waitingGrants.Remove(id);
        outcomes.Add(new ReceiveOutcome(id, ReceiveStatus.Rejected, reason));
        foreach (var (_, ready) in _buffer.Release(id)) work.Enqueue(ready);
    }
}

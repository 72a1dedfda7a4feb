using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Replication;

public sealed partial class Replica
{
    /// <summary>
    /// Takes in one delta from anyone. Returns its outcome first, then the outcomes of buffered or
    /// parked deltas it made ready. A delta that cannot be attributed to a known device is dropped
    /// without trace (so a forgery cannot burn a real delta's id); one that is attributed but breaks
    /// a rule is rejected for good, identically on every replica.
    /// </summary>
    public List<ReceiveOutcome> Receive(SealedDelta delta)
    {
        var outcomes = new List<ReceiveOutcome>(1);
        var h = delta.Header;
        if (h.Workspace != Id) return Single(outcomes, h.Id, ReceiveStatus.Dropped, "another workspace's delta");
        if (_log.TryGetValue(h.Id, out var known))
        {
            return known.Bytes.AsSpan().SequenceEqual(delta.Bytes)
                ? Single(outcomes, h.Id, ReceiveStatus.Duplicate)
                : Single(outcomes, h.Id, ReceiveStatus.Dropped, "replay: a different delta under an id already applied");
        }
        if (_rejected.ContainsKey(h.Id) || _buffer.Contains(h.Id) || _parked.ContainsKey(h.Id))
            return Single(outcomes, h.Id, ReceiveStatus.Duplicate);

        var work = new Queue<SealedDelta>();
        var missing = new List<DeltaId>();
        foreach (var dep in h.AllDependencies)
        {
            if (_rejected.ContainsKey(dep))
            {
                // Only an attributable delta may be rejected for good; an unverifiable one is just dropped.
                var verdict = Attribute(delta, out var attributionProblem);
                if (!verdict) return Single(outcomes, h.Id, ReceiveStatus.Dropped, attributionProblem);
                RejectForGood(h.Id, "depends on a rejected delta", outcomes, work);
                Drain(work, outcomes);
                return outcomes;
            }
            if (!State.IsApplied(dep)) missing.Add(dep);
        }
        if (missing.Count > 0)
        {
            return _buffer.Add(h.Id, delta, missing)
                ? Single(outcomes, h.Id, ReceiveStatus.Buffered)
                : Single(outcomes, h.Id, ReceiveStatus.Dropped, "causal buffer full");
        }
        Process(delta, outcomes, work);
        Drain(work, outcomes);
        return outcomes;
    }

    private static List<ReceiveOutcome> Single(List<ReceiveOutcome> outcomes, DeltaId id, ReceiveStatus status, string? reason = null)
    {
        outcomes.Add(new ReceiveOutcome(id, status, reason));
        return outcomes;
    }

    private void Drain(Queue<SealedDelta> work, List<ReceiveOutcome> outcomes)
    {
        while (work.TryDequeue(out var next)) Process(next, outcomes, work);
    }

    /// <summary>Checks that a known device of a known account signed the delta, using the membership in its causal past.</summary>
    private bool Attribute(SealedDelta delta, out string problem)
    {
        problem = "";
        var h = delta.Header;
        // Past unknown (a dependency was rejected): any card this replica knows may attribute it.
        var past = State.PastOf(h);
        var card = (past is null ? State.Current : State.Admin.At(past)).CardOf(h.Author);
        if (card is null)
        {
            problem = "unknown author";
            return false;
        }
        var device = card.FindDevice(h.Device);
        if (device is null || Signing.TryImportPublicKey(device.PublicKey) is not { } key)
        {
            problem = "unknown device of the author";
            return false;
        }
        if (!DeltaCrypto.VerifySignature(delta, key))
        {
            problem = "bad signature";
            return false;
        }
        return true;
    }

    private void Process(SealedDelta delta, List<ReceiveOutcome> outcomes, Queue<SealedDelta> work)
    {
        var h = delta.Header;
        if (h.AllDependencies.Any(_rejected.ContainsKey))
        {
            if (Attribute(delta, out var why)) RejectForGood(h.Id, "depends on a rejected delta", outcomes, work);
            else outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Dropped, why));
            return;
        }
        var past = State.PastOf(h)!;
        DeltaOp? op;
        if (h.Kind == OpKind.CreateWorkspace)
        {
            // The genesis carries the creator's card inside its payload: decrypt first, then verify with it.
            if (DeltaCrypto.TryDecrypt(delta, Keyring, out op) is not OpenFailure.None || op is not CreateWorkspace create
                || create.Creator.FindDevice(h.Device) is not { } device
                || Signing.TryImportPublicKey(device.PublicKey) is not { } key || !DeltaCrypto.VerifySignature(delta, key))
            {
                outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Dropped, "unverifiable workspace creation"));
                return;
            }
        }
        else
        {
            if (!Attribute(delta, out var problem))
            {
                outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Dropped, problem));
                return;
            }
            foreach (var dep in h.AllDependencies)
            {
                if (State.TimeOf(dep) >= h.Time)
                {
                    RejectForGood(h.Id, "its time is not after its dependencies'", outcomes, work);
                    return;
                }
            }
            var adminEpoch = State.Admin.At(past).Epoch;
            if (h.Epoch != adminEpoch)
            {
                RejectForGood(h.Id, "stale key epoch", outcomes, work);
                return;
            }
            var failure = DeltaCrypto.TryDecrypt(delta, Keyring, out op);
            if (failure == OpenFailure.NoKeyForEpoch)
            {
                _parked[h.Id] = delta;
                outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Parked, "no key for its epoch yet"));
                return;
            }
            if (failure != OpenFailure.None)
            {
                RejectForGood(h.Id, "payload " + failure, outcomes, work);
                return;
            }
        }

        if (State.Check(h, past, op!) is { } reason)
        {
            RejectForGood(h.Id, reason, outcomes, work);
            return;
        }
        State.Apply(h, past, op!);
        _log[h.Id] = delta;
        _order.Add(h.Id);
        _clock.Observe(h.Time);
        _heads.RemoveWhere(past.Contains);
        _heads.Add(h.Id);
        if (h.Device == Device && h.Seq >= _nextSeq) _nextSeq = h.Seq + 1;
        outcomes.Add(new ReceiveOutcome(h.Id, ReceiveStatus.Applied));
        if (op is RemoveMember remove) TakeWrappedKeys(remove.Keys, work);
        if (op is Operations.RotateKey rotate) TakeWrappedKeys(rotate.Keys, work);
        foreach (var (_, ready) in _buffer.Release(h.Id)) work.Enqueue(ready);
    }

    private void TakeWrappedKeys(IReadOnlyList<WrappedKeyring> keys, Queue<SealedDelta> work)
    {
        var mine = keys.FirstOrDefault(k => k.Recipient == Account);
        if (mine is null) return;
        try
        {
            Keyring.Import(KeyWrap.Unwrap(mine.Wrapped, _account.Agreement, Invitation.KeyContext(Id)));
        }
        catch (WireFormatException)
        {
            return; // a wrapped key that is not ours to open: we stay without it, and stay parked
        }
        // New keys may open deltas that were waiting for them.
        var retry = _parked.Values.Where(d => Keyring.Has(d.Header.Epoch)).ToList();
        foreach (var d in retry) _parked.Remove(d.Id);
        foreach (var d in retry) work.Enqueue(d);
    }

    private void RejectForGood(DeltaId id, string reason, List<ReceiveOutcome> outcomes, Queue<SealedDelta> work)
    {
        _rejected[id] = reason;
        outcomes.Add(new ReceiveOutcome(id, ReceiveStatus.Rejected, reason));
        foreach (var (_, ready) in _buffer.Release(id)) work.Enqueue(ready);
    }
}

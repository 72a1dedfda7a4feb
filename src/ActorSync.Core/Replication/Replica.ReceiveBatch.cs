using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using NSec.Cryptography;

namespace ActorSync.Core.Replication;

public sealed partial class Replica
{
    /// <summary>Below this many deltas to check, a batch is verified on the calling thread alone.</summary>
    private const int ParallelVerifyFrom = 16;

    /// <summary>
    /// Takes in deltas that arrived together (one frame of a link or a relay envelope), in their
    /// order, with the same outcomes as <see cref="Receive(SealedDelta)"/> called for each in turn:
    /// the outcomes of <paramref name="deltas"/>[i] are at [i]. The one difference is where the
    /// work happens: the signatures of deltas whose device this replica knows now are checked
    /// first, spread over the machine's cores. Verification is most of a received delta's cost
    /// (~35 µs; a 100,000-delta catch-up spent ~3.5 s of one core on it while the other idled).
    /// A verdict is only a hint: it is used where Receive would check that delta's signature early
    /// anyway (its device known when the delta is reached; a device's key never changes, as its id
    /// is the key's fingerprint, so the verdict is the one Receive would reach). Where Receive
    /// would not (a device learnt or forgotten within the batch) the verdict is ignored.
    /// </summary>
    public List<ReceiveOutcome>[] ReceiveAll(IReadOnlyList<SealedDelta> deltas)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        var verdicts = VerifyAhead(deltas);
        var outcomes = new List<ReceiveOutcome>[deltas.Count];
        for (var i = 0; i < deltas.Count; i++)
            outcomes[i] = Receive(deltas[i], trusted: false, stored: null, verdict: verdicts?[i]);
        return outcomes;
    }

    /// <summary>Per delta: whether its signature checks out under its device's key, where this replica knows that key now; null where not checked.</summary>
    private bool?[]? VerifyAhead(IReadOnlyList<SealedDelta> deltas)
    {
        // Keys are looked up here, on the caller's thread, without remembering them in
        // _deviceKeys (that would change what Receive finds later in the batch); only the pure
        // signature checks run in parallel.
        List<(int Index, PublicKey Key)>? work = null;
        Dictionary<DeviceId, PublicKey?>? looked = null;
        for (var i = 0; i < deltas.Count; i++)
        {
            var h = deltas[i].Header;
            // What Receive answers before it would verify (another workspace, a duplicate) costs
            // nothing to find out: no signature is checked for those.
            if (h.Workspace != Id || _log.ContainsKey(h.Id) || State.IsApplied(h.Id) || _rejected.ContainsKey(h.Id) || _parked.ContainsKey(h.Id)) continue;
            looked ??= [];
            if (!looked.TryGetValue(h.Device, out var key)) looked[h.Device] = key = PeekKey(h);
            if (key is null) continue;
            (work ??= []).Add((i, key));
        }
        if (work is null) return null;
        var verdicts = new bool?[deltas.Count];
        var trees = false;
        foreach (var (index, _) in work) trees |= deltas[index].InTree;
        if (!trees)
        {
            // Deltas signed alone (a single post, what most frames between online peers carry).
            ForEach(work.Count, i => verdicts[work[i].Index] = DeltaCrypto.VerifySignature(deltas[work[i].Index], work[i].Key));
            return verdicts;
        }
        TreeVerdicts(deltas, work, verdicts);
        return verdicts;
    }

    /// <summary>
    /// Deltas of one tree share a signature: their roots are found first (hashes, in parallel for
    /// file chunks), and each root is verified once (or not at all when verified before).
    /// </summary>
    private void TreeVerdicts(IReadOnlyList<SealedDelta> deltas, List<(int Index, PublicKey Key)> work, bool?[] verdicts)
    {
        var roots = new byte[work.Count][];
        ForEach(work.Count, i =>
        {
            var delta = deltas[work[i].Index];
            if (!delta.InTree) return;
            roots[i] = new byte[DeltaTree.HashSize];
            DeltaCrypto.RootOf(delta, roots[i]);
        });
        var firstOfTree = new Dictionary<(VerifiedRoots.RootKey Root, VerifiedRoots.RootKey SignatureR, VerifiedRoots.RootKey SignatureS, int Depth), int>();
        var sameTree = new int[work.Count];
        var checks = new List<int>(work.Count);
        for (var i = 0; i < work.Count; i++)
        {
            sameTree[i] = i;
            if (roots[i] is not { } root)
            {
                checks.Add(i);
                continue;
            }
            var delta = deltas[work[i].Index];
            if (_verifiedRoots.Contains(root, delta.Depth, work[i].Key, delta.Signature))
            {
                verdicts[work[i].Index] = true;
                continue;
            }
            // Same root, depth, signature bytes and key: one verification decides them all (a
            // forged copy with other signature bytes is a tree of its own, verified alone).
            var tree = (VerifiedRoots.RootKey.Of(root), VerifiedRoots.RootKey.Of(delta.Signature), VerifiedRoots.RootKey.Of(delta.Signature[32..]), delta.Depth);
            if (firstOfTree.TryGetValue(tree, out var first) && ReferenceEquals(work[first].Key, work[i].Key))
            {
                sameTree[i] = first;
                continue;
            }
            firstOfTree.TryAdd(tree, i);
            checks.Add(i);
        }
        var results = new bool[work.Count];
        ForEach(checks.Count, c =>
        {
            var i = checks[c];
            var delta = deltas[work[i].Index];
            results[i] = roots[i] is { } root ? DeltaCrypto.VerifyRoot(delta, root, work[i].Key) : DeltaCrypto.VerifySignature(delta, work[i].Key);
        });
        for (var i = 0; i < work.Count; i++)
        {
            if (verdicts[work[i].Index] is not null) continue;
            var verdict = results[sameTree[i]];
            verdicts[work[i].Index] = verdict;
            if (verdict && sameTree[i] == i && roots[i] is { } root)
                _verifiedRoots.Add(root, deltas[work[i].Index].Depth, work[i].Key, deltas[work[i].Index].Signature);
        }
    }

    /// <summary>Runs <paramref name="body"/> for 0..count-1, spread over the cores from <see cref="ParallelVerifyFrom"/> items.</summary>
    private static void ForEach(int count, Action<int> body)
    {
        if (count < ParallelVerifyFrom)
        {
            for (var i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, body);
    }

    /// <summary>What <see cref="KnownKey"/> would answer now, without remembering it.</summary>
    private PublicKey? PeekKey(DeltaHeader h) =>
        _deviceKeys.TryGetValue(h.Device, out var key) ? key
        : State.Current.CardOf(h.Author)?.FindDevice(h.Device) is { } device ? Signing.TryImportPublicKey(device.PublicKey)
        : null;
}

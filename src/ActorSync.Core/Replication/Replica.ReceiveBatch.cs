using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
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
    /// work happens: the signatures of deltas whose device this replica already knows are checked
    /// first, spread over the machine's cores. Verification is most of a received delta's cost
    /// (~35 µs; a 100,000-delta catch-up spent ~3.5 s of one core on it while the other idled).
    /// A device's key never changes (its id is the key's fingerprint), so a signature checked
    /// before the batch is applied gets the verdict it would get during it; a delta whose signature
    /// fails goes through <see cref="Receive(SealedDelta)"/> and is dropped there as before, and
    /// deltas from devices this replica learns of within the batch are verified when reached.
    /// </summary>
    public List<ReceiveOutcome>[] ReceiveAll(IReadOnlyList<SealedDelta> deltas)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        var verified = VerifyAhead(deltas);
        var outcomes = new List<ReceiveOutcome>[deltas.Count];
        for (var i = 0; i < deltas.Count; i++)
            outcomes[i] = Receive(deltas[i], trusted: verified?[i] == true, stored: null);
        return outcomes;
    }

    /// <summary>Per delta: true when its signature checked out under its known device key; false or null otherwise (left to the ordinary path).</summary>
    private bool[]? VerifyAhead(IReadOnlyList<SealedDelta> deltas)
    {
        // Keys are looked up here, on the caller's thread (KnownKey caches into a dictionary);
        // only the pure signature checks run in parallel.
        List<(int Index, PublicKey Key)>? work = null;
        for (var i = 0; i < deltas.Count; i++)
        {
            var h = deltas[i].Header;
            // What Receive answers before it would verify (another workspace, a duplicate) costs
            // nothing to find out: no signature is checked for those.
            if (h.Workspace != Id || _log.ContainsKey(h.Id) || State.IsApplied(h.Id) || _rejected.ContainsKey(h.Id) || _parked.ContainsKey(h.Id)) continue;
            if (KnownKey(h) is not { } key) continue;
            (work ??= []).Add((i, key));
        }
        if (work is null) return null;
        var verified = new bool[deltas.Count];
        if (work.Count < ParallelVerifyFrom)
        {
            foreach (var (index, key) in work) verified[index] = DeltaCrypto.VerifySignature(deltas[index], key);
            return verified;
        }
        Parallel.ForEach(work, item => verified[item.Index] = DeltaCrypto.VerifySignature(deltas[item.Index], item.Key));
        return verified;
    }
}

using ActorSync.Core.Encoding;

namespace ActorSync.Core.Crypto;

public sealed partial class EpochKeyring
{
    /// <summary>
    /// The commitments of the epochs whose opening this replica applied: public, and what later key
    /// grants are checked against, so a replica recovered from an image takes the same keys a
    /// replica that replayed every delta would.
    /// </summary>
    internal void WriteCommitments(WireWriter w)
    {
        w.VarUInt((ulong)_commitments.Count);
        foreach (var (epoch, commitment) in _commitments.OrderBy(c => c.Key.High).ThenBy(c => c.Key.Low))
        {
            epoch.Write(w);
            w.Raw(commitment);
        }
    }

    internal void ReadCommitments(ref WireReader r)
    {
        var count = r.Count(MaxEpochs, "commitments");
        for (var i = 0; i < count; i++) RecordCommitment(EpochId.Read(ref r), r.Raw(KeyGrant.CommitmentSize, "commitment").ToArray());
    }
}

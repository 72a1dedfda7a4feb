using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Replication;
using Xunit;

namespace ActorSync.Core.Tests.Images;

internal static class ReplicaAssert
{
    /// <summary>Everything a replica exposes about its state and log, equal (the causal buffer aside: an image does not carry it).</summary>
    public static void Same(Replica expected, Replica actual, string context)
    {
        Assert.True(expected.State.StateHash() == actual.State.StateHash(), $"{context}: state hash");
        Assert.True(expected.Seen.Equals(actual.Seen), $"{context}: seen {expected.Seen} vs {actual.Seen}");
        Assert.True(expected.State.Applied.Equals(actual.State.Applied), $"{context}: applied");
        Assert.Equal(expected.State.AppliedCount, actual.State.AppliedCount);
        Assert.Equal(expected.Heads.ToList(), actual.Heads.ToList());
        Assert.Equal(expected.LogCount, actual.LogCount);
        Assert.Equal(expected.Entries.Select(e => e.Id).ToList(), actual.Entries.Select(e => e.Id).ToList());
        foreach (var (e, a) in expected.Entries.Zip(actual.Entries))
        {
            Assert.Equal(e.InMemory is null, a.InMemory is null);
            Assert.Equal(e.Stored, a.Stored);
            Assert.Equal(e.Length, a.Length);
            Assert.True(expected.BytesOf(e).AsSpan().SequenceEqual(actual.BytesOf(a)), $"{context}: bytes of {e.Id}");
        }
        Assert.Equal(expected.Rejected.OrderBy(r => r.Key).ToList(), actual.Rejected.OrderBy(r => r.Key).ToList());
        Assert.Equal(expected.ParkedCount, actual.ParkedCount);
        Assert.Equal(expected.Adoptable.Order().ToList(), actual.Adoptable.Order().ToList());
        Assert.True(expected.PrunedMax.Equals(actual.PrunedMax), $"{context}: pruned max");
        Assert.Equal(expected.IsMember, actual.IsMember);
        Assert.Equal(EpochsOf(expected.Keyring), EpochsOf(actual.Keyring));
        foreach (var epoch in expected.Keyring.Epochs)
            Assert.Equal(expected.Keyring.HasCommitment(epoch), actual.Keyring.HasCommitment(epoch));
    }

    private static List<EpochId> EpochsOf(EpochKeyring keyring) => [.. keyring.Epochs.OrderBy(e => e.High).ThenBy(e => e.Low)];

    /// <summary>Outcomes as comparable values (id, status, reason).</summary>
    public static List<(string Id, ReceiveStatus Status, string? Reason)> Deliver(Replica to, IEnumerable<SealedDelta> deltas) =>
        deltas.SelectMany(d => to.Receive(Rules.Forge.OverTheWire(d))).Select(o => (o.Id.ToString(), o.Status, o.Reason)).ToList();

    /// <summary>A keyring holding the same keys as <paramref name="source"/> (what a device keeps beside its snapshot).</summary>
    public static EpochKeyring KeysOf(Replica source)
    {
        var keyring = new EpochKeyring(source.Id);
        keyring.Import(source.Keyring.Export());
        return keyring;
    }

    /// <summary>Statuses a first delivery of an adoptable delta may have: kept in the log (Applied, or Adopted where that status exists).</summary>
    public static bool Kept(ReceiveStatus status) =>
        status is not (ReceiveStatus.Duplicate or ReceiveStatus.Dropped or ReceiveStatus.Rejected or ReceiveStatus.Buffered or ReceiveStatus.Parked);
}

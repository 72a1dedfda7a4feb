using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Replication;

namespace ActorSync.Core.Backup;

/// <summary>
/// Rebuilds a replica from an export without trusting it: the keyring is imported and every delta
/// goes through <see cref="Replica.Receive"/> (signature, causality, the rules at its causal past,
/// decryption) as if a member had sent it. An export holds only applied deltas in an order they
/// were applied in, so each must apply at once; anything else (a changed byte, a missing key, a
/// dropped or reordered delta) refuses the whole file, and nothing of it is kept.
/// </summary>
public static class WorkspaceRebuild
{
    /// <returns>The replica, or null with <paramref name="refusal"/> saying why (ids and rule names only).</returns>
    public static Replica? Rebuild(WorkspaceId workspace, AccountIdentity account, DeviceIdentity device, ReadOnlySpan<byte> keyring,
        IReadOnlyList<byte[]> deltas, out string? refusal, IChunkStore? chunks = null, byte[]? image = null)
    {
        if (image is not null) return FromImage(workspace, account, device, keyring, image, deltas, out refusal, chunks);
        if (deltas.Count == 0)
        {
            refusal = "the export holds no deltas";
            return null;
        }
        var replica = new Replica(workspace, account, device, new EpochKeyring(workspace), chunks: chunks);
        refusal = Fill(replica, keyring, deltas);
        if (refusal is null) return replica;
        replica.Dispose();
        return null;
    }

    /// <summary>
    /// A pruned workspace's export: the state comes from its image (the pruned history is gone; the
    /// passphrase's authenticated encryption vouches for it), and each delta of the log left must
    /// verify against its device's key and be one the image names.
    /// </summary>
    private static Replica? FromImage(WorkspaceId workspace, AccountIdentity account, DeviceIdentity device, ReadOnlySpan<byte> keyring,
        byte[] image, IReadOnlyList<byte[]> deltas, out string? refusal, IChunkStore? chunks)
    {
        var ring = new EpochKeyring(workspace);
        Replica replica;
        try
        {
            ring.Import(keyring);
            replica = Replica.FromImage(image, account, device, ring, chunks);
        }
        catch (WireFormatException e)
        {
            ring.Dispose();
            refusal = "its image cannot be read: " + e.Message;
            return null;
        }
        refusal = replica.Id != workspace ? "its image is of another workspace" : Adopt(replica, deltas);
        if (refusal is null) return replica;
        replica.Dispose();
        return null;
    }

    private static string? Adopt(Replica replica, IReadOnlyList<byte[]> deltas) =>
        Feed(replica, deltas, ReceiveStatus.Adopted)
        ?? (replica.Adoptable.Count == 0 ? null : $"{replica.Adoptable.Count} deltas of its log are missing");

    private static string? Fill(Replica replica, ReadOnlySpan<byte> keyring, IReadOnlyList<byte[]> deltas)
    {
        try
        {
            replica.Keyring.Import(keyring);
        }
        catch (WireFormatException)
        {
            return "its keyring cannot be read";
        }
        return Feed(replica, deltas, ReceiveStatus.Applied)
            ?? (replica.BufferedCount == 0 && replica.ParkedCount == 0 ? null : "some deltas wait for others the export lacks");
    }

    /// <summary>Each delta in turn, every outcome of which must be <paramref name="expected"/>; the first that is not refuses the file.</summary>
    private static string? Feed(Replica replica, IReadOnlyList<byte[]> deltas, ReceiveStatus expected)
    {
        for (var i = 0; i < deltas.Count; i++)
        {
            SealedDelta delta;
            try
            {
                delta = DeltaCodec.Decode(deltas[i]);
            }
            catch (WireFormatException e)
            {
                return $"delta {i + 1} cannot be decoded ({e.Message})";
            }
            foreach (var outcome in replica.Receive(delta))
                if (outcome.Status != expected)
                    return $"delta {outcome.Id} was {outcome.Status.ToString().ToLowerInvariant()}{(outcome.Reason is null ? "" : ": " + outcome.Reason)}";
        }
        return null;
    }
}

using System.Security.Cryptography;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Crypto;

/// <summary>
/// The key material of a delta that opens an epoch (creation, rotation, uninvite): a commitment
/// to the new epoch key and the keyring wrapped for each recipient. It travels in the delta's
/// header, authenticated (signed and bound as AEAD data) but outside the epoch encryption, so a
/// member that missed an epoch key can still take the key handed to it; each blob is readable
/// only by its recipient. The commitment lets every recipient reject a key some hostile member
/// wrapped for an epoch it did not open.
/// </summary>
public sealed record KeyGrant(byte[] Commitment, IReadOnlyList<WrappedKeyring> Wrapped)
{
    public const int CommitmentSize = 32;
    public const int MaxRecipients = 256;

    public static byte[] Commit(WorkspaceId workspace, EpochId epoch, ReadOnlySpan<byte> key)
    {
        var w = new WireWriter(96);
        w.String("actorsync/key-commitment");
        Span<byte> ws = stackalloc byte[WorkspaceId.Size];
        workspace.WriteTo(ws);
        w.Raw(ws);
        epoch.Write(w);
        w.Raw(key);
        return SHA256.HashData(w.WrittenSpan);
    }

    public IEnumerable<AccountId> Recipients => Wrapped.Select(k => k.Recipient);

    public void Write(WireWriter w)
    {
        w.Raw(Commitment);
        w.VarUInt((ulong)Wrapped.Count);
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        foreach (var k in Wrapped)
        {
            k.Recipient.Value.WriteTo(raw);
            w.Raw(raw);
            w.Bytes(k.Wrapped);
        }
    }

    public static KeyGrant Read(ref WireReader r)
    {
        var commitment = r.Raw(CommitmentSize, "key commitment").ToArray();
        var count = r.Count(MaxRecipients, "wrapped keys");
        var list = new List<WrappedKeyring>(count);
        for (var i = 0; i < count; i++)
        {
            var recipient = new AccountId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "key recipient")));
            list.Add(new WrappedKeyring(recipient, r.Bytes(KeyWrap.MaxSecretSize + KeyWrap.Overhead, "wrapped key").ToArray()));
        }
        return new KeyGrant(commitment, list);
    }
}

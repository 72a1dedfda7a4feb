using System.Security.Cryptography;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// A chunk is encoded straight into its delta's buffer and encrypted in place there, and its author
/// applies the chunk object it sealed instead of decrypting its own delta: what a member opens
/// must still be exactly the author's bytes, at every size a length prefix can take, and both
/// replicas must index the chunk under the same hash.
/// </summary>
public class SealedChunkSpecs
{
    // Around each boundary where the chunk's length prefix grows by a byte, plus the largest chunk.
    public static TheoryData<int> Sizes => new([1, 127, 128, 129, 16_383, 16_384, 65_536, 262_144, StoreChunk.MaxSize]);

    [Theory]
    [MemberData(nameof(Sizes))]
    public void The_in_place_encoding_should_be_the_operation_encoding(int size)
    {
        var chunk = new StoreChunk(RandomNumberGenerator.GetBytes(size));
        var inPlace = new byte[OpCodec.EncodedSize(chunk)];

        OpCodec.Encode(chunk, inPlace);

        Assert.Equal(OpCodec.Encode((DeltaOp)chunk), inPlace);
        Assert.Equal(chunk, OpCodec.Decode(inPlace));
        Assert.Throws<ArgumentException>(() => OpCodec.Encode(chunk, new byte[inPlace.Length + 1]));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_member_should_open_a_sealed_chunk_to_the_author_bytes_and_index_it_under_the_same_hash(int size)
    {
        using var ann = new TestMember("ann");
        using var bob = new TestMember("bob");
        var now = 1_700_000_000_000L;
        using var owner = FilesWorkspace.Create(ann, bob, new MemoryChunkStore(), ref now, out var files, out var invitation);
        var data = RandomNumberGenerator.GetBytes(size);
        var hash = SHA256.HashData(data);

        var stored = owner.Author(files, new StoreChunk(data), now += 7);

        Assert.True(stored.Ok, stored.Rejection);
        using var member = Replica.Join(invitation, bob.Account, bob.Device, new MemoryChunkStore());
        foreach (var d in owner.Log) Assert.Equal(ReceiveStatus.Applied, member.Receive(DeltaCodec.Decode(d.Bytes.ToArray()))[0].Status);
        Assert.Equal(data, member.ReadChunk(files, hash));
        Assert.Equal(data, owner.ReadChunk(files, hash));
        Assert.Equal(stored.Last.Id, member.State.FilesOf(files)!.ChunkDelta(hash));
        Assert.Equal(owner.State.StateHash(), member.State.StateHash());
        // The plaintext does not appear in the sealed bytes (encrypted in place, not copied beside).
        if (size >= 16) Assert.Equal(-1, stored.Last.Bytes.AsSpan().IndexOf(data.AsSpan(0, 16)));
    }
}

using System.Security.Cryptography;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// File content (StoreChunk deltas) lives in the replica's chunk store, not its log: the log keeps
/// header, length, digest and location, and reads the bytes back when they are asked for.
/// </summary>
public class ChunkStoreSpecs
{
    /// <summary>A store that counts what goes in, so a spec can tell an append from a recovery.</summary>
    private sealed class CountingStore : IChunkStore
    {
        private readonly MemoryChunkStore _inner = new();
        public int Appends { get; private set; }
        public int AppendsSendingSoon { get; private set; }
        public int Reads { get; private set; }

        public ChunkLocation Append(byte[] sealedBytes, bool sendingSoon)
        {
            Appends++;
            if (sendingSoon) AppendsSendingSoon++;
            return _inner.Append(sealedBytes, sendingSoon);
        }

        public byte[] Read(ChunkLocation at)
        {
            Reads++;
            return _inner.Read(at);
        }
    }

    [Fact]
    public void Chunks_should_live_in_the_store_be_read_back_on_demand_and_be_told_apart_from_replays()
    {
        using var ann = new TestMember("ann");
        using var bob = new TestMember("bob");
        var now = 1_700_000_000_000L;
        var annStore = new CountingStore();
        using var owner = FilesWorkspace.Create(ann, bob, annStore, ref now, out var files, out var invitation);
        var data = RandomNumberGenerator.GetBytes(10_000);
        var stored = owner.Author(files, new StoreChunk(data), now += 7);
        Assert.True(stored.Ok);

        // Only the chunk went to the store; its log entry holds no bytes, and downloads read them back.
        Assert.Equal(1, annStore.Appends);
        // Its author sends it next: the store may keep it at hand.
        Assert.Equal(1, annStore.AppendsSendingSoon);
        var entry = owner.Logged(stored.Last.Id)!;
        Assert.Null(entry.InMemory);
        Assert.Equal(stored.Last.Bytes.Length, entry.Length);
        Assert.All(owner.Entries.Where(e => e.Id != entry.Id), e => Assert.NotNull(e.InMemory));
        Assert.Equal(data, owner.ReadChunk(files, SHA256.HashData(data)));
        Assert.Equal(stored.Last.Bytes, owner.BytesOf(entry));

        // A member receives it through the network path: it goes to that member's store.
        var bobStore = new CountingStore();
        using var joined = Replica.Join(invitation, bob.Account, bob.Device, bobStore);
        foreach (var d in owner.Log) joined.Receive(Forge.OverTheWire(d));
        Assert.Equal(owner.State.StateHash(), joined.State.StateHash());
        Assert.Equal(1, bobStore.Appends);
        Assert.Equal(0, bobStore.AppendsSendingSoon);
        // The same bytes again are a duplicate, other bytes under the id a replay: told by the digest, no read.
        var reads = bobStore.Reads;
        Assert.Equal(ReceiveStatus.Duplicate, joined.Receive(Forge.OverTheWire(stored.Last))[0].Status);
        var other = Forge.Tampered(stored.Last, stored.Last.Bytes.Length - 1);
        Assert.Equal(ReceiveStatus.Dropped, joined.Receive(other)[0].Status);
        Assert.Equal(reads, bobStore.Reads);

        // Recovery from where the store holds it appends nothing; a delta recovered without a place stays in memory.
        var recoveredStore = new CountingStore();
        var at = recoveredStore.Append(stored.Last.Bytes, sendingSoon: false);
        using var recovered = Replica.Join(invitation, bob.Account, bob.Device, recoveredStore);
        foreach (var d in owner.Log)
            recovered.Recover(Forge.OverTheWire(d), d.Id == stored.Last.Id ? at : null);
        Assert.Equal(1, recoveredStore.Appends);
        Assert.Equal(at, recovered.Logged(stored.Last.Id)!.Stored);
        Assert.Equal(owner.State.StateHash(), recovered.State.StateHash());
        Assert.Equal(data, recovered.ReadChunk(files, SHA256.HashData(data)));
    }

    [Fact]
    public void Chunks_authored_together_should_reach_the_store_signed_and_marked_as_sent_next()
    {
        using var ann = new TestMember("ann");
        using var bob = new TestMember("bob");
        var now = 1_700_000_000_000L;
        var store = new CountingStore();
        using var owner = FilesWorkspace.Create(ann, bob, store, ref now, out var files, out var invitation);
        var chunks = Enumerable.Range(0, 3).Select(_ => new StoreChunk(RandomNumberGenerator.GetBytes(20_000))).ToList();

        var stored = owner.AuthorMany(files, chunks, chunks.Count, now += 7);

        Assert.Null(stored.Rejection);
        Assert.Equal(3, store.Appends);
        Assert.Equal(3, store.AppendsSendingSoon);
        // What the store holds is the delta as sent: signed (its tree's proof and signature filled
        // in), so a member verifies and applies what is read back from it.
        foreach (var d in stored.Deltas)
            Assert.Equal(d.Bytes, owner.BytesOf(owner.Logged(d.Id)!));
        using var joined = Replica.Join(invitation, bob.Account, bob.Device);
        var outcomes = owner.Log.SelectMany(d => joined.Receive(Forge.OverTheWire(d))).ToList();
        Assert.DoesNotContain(outcomes, o => o.Status is ReceiveStatus.Dropped or ReceiveStatus.Rejected);
        Assert.Equal(owner.State.StateHash(), joined.State.StateHash());
    }
}

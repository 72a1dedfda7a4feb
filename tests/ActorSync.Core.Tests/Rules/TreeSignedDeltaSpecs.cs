using System.Security.Cryptography;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// Deltas authored together share one signature over a hash tree (<see cref="DeltaTree"/>); each
/// still proves itself alone. Over random batch sizes, orders, duplicates and losses, members
/// must apply exactly what they apply from deltas signed one by one, and no change to any byte of
/// a tree delta, nor a proof or signature lifted from a genuine delta, may be applied.
/// </summary>
public class TreeSignedDeltaSpecs
{
    private static readonly ToolId Chat = new("chat");

    private static IEnumerable<DeltaOp> Entries(int count, string prefix) =>
        Enumerable.Range(0, count).Select(i => (DeltaOp)new CreateEntry(EntryFields.Of(("text", $"{prefix} {i}"))));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Members_should_converge_on_tree_signed_batches_over_any_order_duplicates_and_losses(int seed)
    {
        var random = new Random(seed);
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        using var cat = new TestMember("cat");
        Assert.True(ws["ann"].Invite(cat.Card, Role.Participant, ws.Tick(), out var invitation).Ok);
        ws.SyncAll();
        var signatures = new HashSet<string>();
        var treeDeltas = 0;
        for (var batch = 0; batch < 12; batch++)
        {
            var author = ws[random.Next(2) == 0 ? "ann" : "bob"];
            var count = random.Next(1, 40);
            var result = author.AuthorMany(Chat, Entries(count, $"batch {batch}"), count, ws.Tick());
            Assert.True(result.Ok, result.Rejection);
            Assert.Equal(count, result.Authored.Count);
            foreach (var d in result.Deltas)
            {
                Assert.Equal(count > 1, d.InTree);
                if (d.InTree) treeDeltas++;
                signatures.Add(Convert.ToHexString(d.Signature));
            }
            if (random.Next(3) == 0) ws.SyncAll();
        }
        ws.SyncAll();
        Assert.Equal(ws["ann"].State.StateHash(), ws["bob"].State.StateHash());
        Assert.True(treeDeltas > 0);
        // One signature per tree of up to 16, not one per delta.
        Assert.True(signatures.Count * 4 < ws["ann"].Log.Count(), $"{signatures.Count} signatures for {ws["ann"].Log.Count()} deltas");

        // A late member gets everything shuffled, some twice, some lost and sent again later.
        using var late = cat.Join(invitation!);
        var log = ws["ann"].Log.ToList();
        var feed = log.Where(_ => random.NextDouble() > 0.1).SelectMany(d => random.Next(4) == 0 ? new[] { d, d } : [d])
            .OrderBy(_ => random.Next()).Select(Forge.OverTheWire).ToList();
        for (var at = 0; at < feed.Count;)
        {
            var size = Math.Min(feed.Count - at, random.Next(1, 60));
            late.ReceiveAll(feed.GetRange(at, size));
            at += size;
        }
        foreach (var d in log) late.Receive(Forge.OverTheWire(d));

        Assert.Equal(ws["ann"].State.StateHash(), late.State.StateHash());
        Assert.Equal(log.Count, late.Log.Count());
    }

    [Fact]
    public void No_single_changed_byte_of_a_tree_delta_should_be_applied_and_its_tree_mates_should_still_apply()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        var result = ws["ann"].AuthorMany(Chat, Entries(5, "tree"), 5, ws.Tick());
        Assert.True(result.Ok, result.Rejection);
        var target = result.Deltas[2];
        Assert.True(target.InTree);

        // Every byte, each with a changed bit, to a receiver that has already verified the tree's
        // root through a genuine tree mate (so the remembered root is what a forgery would hit).
        var bob = ws["bob"];
        Assert.Equal(ReceiveStatus.Applied, bob.Receive(Forge.OverTheWire(result.Deltas[0]))[0].Status);
        Assert.Equal(ReceiveStatus.Applied, bob.Receive(Forge.OverTheWire(result.Deltas[1]))[0].Status);
        var received = 0;
        for (var i = 0; i < target.Bytes.Length; i++)
        {
            SealedDelta forged;
            try
            {
                forged = Forge.Tampered(target, i, (byte)(1 << i % 8));
            }
            catch (WireFormatException)
            {
                continue; // refused by the decoder: never reaches a replica
            }
            Assert.NotEqual(ReceiveStatus.Applied, bob.Receive(forged)[0].Status);
            received++;
        }

        // Most damaged copies decode (a changed ciphertext, proof or signature byte still parses) and
        // were refused by the replica itself.
        Assert.True(received > target.Bytes.Length / 2, $"{received} of {target.Bytes.Length} damaged copies reached the replica");
        foreach (var d in result.Deltas.Skip(2)) Assert.Equal(ReceiveStatus.Applied, bob.Receive(Forge.OverTheWire(d))[0].Status);
        Assert.Equal(ws["ann"].State.StateHash(), bob.State.StateHash());
    }

    [Fact]
    public void A_proof_and_signature_lifted_from_a_genuine_delta_should_not_carry_other_content()
    {
        // A member who knows the workspace key seals content of its own under ann's id and
        // attaches the proof and signature of one of ann's real tree deltas: the leaf differs, so
        // the root does, and the signature does not cover it (also once that root is remembered).
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Participant));
        var ann = ws["ann"];
        var genuine = ann.AuthorMany(Chat, Entries(3, "real"), 3, ws.Tick());
        Assert.True(genuine.Ok, genuine.Rejection);
        var donor = genuine.Deltas[^1];
        var header = Forge.NextHeader(ann, ws.Member("ann"), Chat, OpKind.CreateEntry, ws.Tick());
        var fake = DeltaCrypto.SealForTree(header, new CreateEntry(EntryFields.Of(("text", "not ann's"))), ws["cat"].Keyring, donor.Depth, donor.TreeIndex);
        var tail = donor.Bytes.AsSpan(donor.ProofStart);
        tail.CopyTo(fake.Bytes.AsSpan(fake.ProofStart));
        var bob = ws["bob"];
        foreach (var d in genuine.Deltas) Assert.Equal(ReceiveStatus.Applied, bob.Receive(Forge.OverTheWire(d))[0].Status);

        var outcome = bob.Receive(Forge.OverTheWire(fake))[0];

        Assert.Equal(ReceiveStatus.Dropped, outcome.Status);
        Assert.Equal("bad signature", outcome.Reason);
        Assert.False(DeltaCrypto.VerifySignature(Forge.OverTheWire(fake), ws.Member("ann").Device.Signing.PublicKey));
    }

    [Fact]
    public void A_refusal_inside_a_batch_should_leave_what_came_before_it_signed_and_valid()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        var tooLong = new string('x', EntryFields.MaxValueBytes + 1);
        var ops = Entries(6, "before").Append(new CreateEntry(EntryFields.Of(("text", tooLong)))).Concat(Entries(3, "after")).ToList();

        var result = ws["ann"].AuthorMany(Chat, ops, ops.Count, ws.Tick());

        Assert.False(result.Ok);
        Assert.Equal(6, result.Authored.Count);
        Assert.Equal(6, result.Deltas.Count);
        var key = ws.Member("ann").Device.Signing.PublicKey;
        Assert.All(result.Deltas, d => Assert.True(d.InTree && DeltaCrypto.VerifySignature(Forge.OverTheWire(d), key)));
        ws.SyncAll();
        Assert.Equal(ws["ann"].State.StateHash(), ws["bob"].State.StateHash());
    }

    [Fact]
    public void A_batch_whose_operations_throw_midway_should_still_leave_what_it_applied_signed()
    {
        // The sequence is lazy (the actor's decides as it goes): whatever ends the batch, no delta
        // the replica applied stays unsigned in its log.
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        IEnumerable<DeltaOp> ThreeThenFail()
        {
            foreach (var op in Entries(3, "before the fault")) yield return op;
            throw new IOException("the source of the batch failed");
        }

        Assert.Throws<IOException>(() => ws["ann"].AuthorMany(Chat, ThreeThenFail(), 8, ws.Tick()));

        var key = ws.Member("ann").Device.Signing.PublicKey;
        var authored = ws["ann"].Log.Where(d => d.InTree).ToList();
        Assert.Equal(3, authored.Count);
        Assert.All(authored, d => Assert.True(DeltaCrypto.VerifySignature(Forge.OverTheWire(d), key)));
        ws.SyncAll();
        Assert.Equal(ws["ann"].State.StateHash(), ws["bob"].State.StateHash());
    }

    [Fact]
    public void File_chunks_signed_together_should_reach_the_chunk_store_as_signed()
    {
        using var ann = new TestMember("ann");
        using var bob = new TestMember("bob");
        var now = 1_700_000_000_000L;
        var store = new MemoryChunkStore();
        using var owner = FilesWorkspace.Create(ann, bob, store, ref now, out var files, out var invitation);
        var chunks = Enumerable.Range(0, 20).Select(_ => RandomNumberGenerator.GetBytes(64 * 1024)).ToList();
        // A repeat within the batch is authored once: the lazy sequence sees the first one applied.
        var ops = chunks.Append(chunks[3]).Select(c => new StoreChunk(c)).Where(c => owner.State.FilesOf(files)?.ChunkDelta(c.Hash) is null);

        var stored = owner.AuthorMany(files, ops, 21, now += 7);

        Assert.True(stored.Ok, stored.Rejection);
        Assert.Equal(20, stored.Deltas.Count);
        Assert.Equal(2, stored.Deltas.Select(d => Convert.ToHexString(d.Signature)).Distinct().Count());
        using var member = Replica.Join(invitation, bob.Account, bob.Device, new MemoryChunkStore());
        // The owner's log reads chunk deltas back from its store.
        foreach (var d in owner.Log) Assert.Equal(ReceiveStatus.Applied, member.Receive(Forge.OverTheWire(d))[0].Status);
        foreach (var c in chunks) Assert.Equal(c, member.ReadChunk(files, SHA256.HashData(c)));
        Assert.Equal(owner.State.StateHash(), member.State.StateHash());
    }

    [Fact]
    public void The_digest_of_a_tree_delta_should_change_with_any_byte_of_it()
    {
        // The journal keeps this digest for content in the chunk pack and recovery compares the
        // pack's bytes with it: damage anywhere, the proof and signature included, must show.
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager));
        var result = ws["ann"].AuthorMany(Chat, Entries(3, "digest"), 3, ws.Tick());
        var delta = result.Deltas[1];
        var digest = delta.Digest();
        Assert.Equal(digest, Forge.OverTheWire(delta).Digest());
        var compared = 0;
        for (var i = 0; i < delta.Bytes.Length; i++)
        {
            SealedDelta damaged;
            try
            {
                damaged = Forge.Tampered(delta, i, (byte)(1 << i % 8));
            }
            catch (WireFormatException)
            {
                continue;
            }
            Assert.NotEqual(digest, damaged.Digest());
            compared++;
        }
        Assert.True(compared > delta.Bytes.Length / 2, $"{compared} of {delta.Bytes.Length} damaged copies decoded");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(DeltaTree.MaxDepth + 1)]
    public void A_tree_delta_with_an_impossible_depth_should_not_decode(int depth)
    {
        // Exactly as long as a proof of that depth would make it: only the depth check refuses it.
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager));
        var delta = ws["ann"].AuthorMany(Chat, Entries(2, "x"), 2, ws.Tick()).Deltas[0];
        var bytes = new byte[delta.ProofStart + DeltaTree.ProofSize(depth) + Signing.SignatureSize];
        delta.LeafPart.CopyTo(bytes);
        bytes[delta.ProofStart] = (byte)depth;
        var asDepthOne = new byte[delta.ProofStart + DeltaTree.ProofSize(1) + Signing.SignatureSize];
        bytes.AsSpan(0, delta.ProofStart + 1).CopyTo(asDepthOne);
        asDepthOne[delta.ProofStart] = 1;
        DeltaCodec.Decode(asDepthOne); // the same construction with a possible depth decodes

        var refused = Assert.Throws<WireFormatException>(() => DeltaCodec.Decode(bytes));
        Assert.Contains("tree depth", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_delta_signed_alone_should_keep_the_sha256_of_its_bytes_as_its_digest()
    {
        // Journals written before format 2 recorded SHA-256 of the bytes beside stored content.
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager));
        var alone = ws["ann"].Author(Chat, new CreateEntry(EntryFields.Of(("text", "alone"))), ws.Tick()).Last;

        Assert.False(alone.InTree);
        Assert.Equal(SHA256.HashData(alone.Bytes), alone.Digest());
    }

    [Fact]
    public void A_forged_tree_mate_first_in_a_frame_should_be_dropped_and_its_genuine_tree_mates_applied()
    {
        // Checked ahead, deltas are grouped by root and signature: a copy with a damaged signature
        // is a group of its own and must not decide for (or be decided by) the genuine ones.
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        using var cat = new TestMember("cat");
        Assert.True(ws["ann"].Invite(cat.Card, Role.Participant, ws.Tick(), out var invitation).Ok);
        ws.SyncAll();
        using var oneByOne = cat.Join(invitation!);
        using var batched = cat.Join(invitation!);
        foreach (var d in ws["ann"].Log.ToList())
        {
            oneByOne.Receive(Forge.OverTheWire(d));
            batched.Receive(Forge.OverTheWire(d));
        }
        var tree = ws["ann"].AuthorMany(Chat, Entries(16, "mates"), 16, ws.Tick()).Deltas;
        // Damaged copies first in the frame and just before their genuine delta.
        var frame = tree.Select(Forge.OverTheWire).ToList();
        frame.Insert(5, Forge.Tampered(tree[5], tree[5].Bytes.Length - 2));
        frame.Insert(0, Forge.Tampered(tree[0], tree[0].Bytes.Length - 1));

        var expected = frame.SelectMany(d => oneByOne.Receive(d)).ToList();
        var actual = batched.ReceiveAll(frame).SelectMany(o => o).ToList();

        Assert.Equal(expected, actual);
        Assert.Equal(2, actual.Count(o => o is { Status: ReceiveStatus.Dropped, Reason: "bad signature" }));
        Assert.Equal(16, actual.Count(o => o.Status == ReceiveStatus.Applied));
        Assert.Equal(ws["ann"].State.StateHash(), batched.State.StateHash());
    }

    [Fact]
    public void A_tree_index_beyond_its_depth_should_not_decode()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager));
        var result = ws["ann"].AuthorMany(Chat, Entries(2, "x"), 2, ws.Tick());
        var delta = result.Deltas[1];
        Assert.Equal(1, delta.Depth);
        var bytes = delta.Bytes.ToArray();
        bytes[delta.ProofStart + 2] = 2;

        Assert.Throws<WireFormatException>(() => DeltaCodec.Decode(bytes));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(16, 4)]
    [InlineData(17, DeltaTree.MaxDepth)]
    [InlineData(1000, DeltaTree.MaxDepth)]
    public void The_tree_depth_should_hold_the_batch_up_to_the_maximum(int count, int depth) => Assert.Equal(depth, DeltaTree.DepthFor(count));
}

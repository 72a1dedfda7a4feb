using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// <see cref="Replica.ReceiveAll"/> checks a batch's signatures ahead, on every core; what it
/// answers must be what <see cref="Replica.Receive(SealedDelta)"/> answers delta by delta, over
/// random orders, duplicates, losses, forged copies and batch sizes, whoever the authors are and
/// whenever the receiver learns of their devices.
/// </summary>
public class BatchReceiveSpecs
{
    private static readonly ToolId Chat = new("chat");
    private static readonly ToolId Discussion = new("discussion");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Receiving_in_batches_should_give_each_delta_the_outcome_receiving_one_by_one_gives(int seed)
    {
        var random = new Random(seed);
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("cat", Role.Participant), ("dan", Role.Participant));
        using var bob = new TestMember("bob");
        Assert.True(ws["ann"].Invite(bob.Card, Role.Participant, ws.Tick(), out var invitation).Ok);
        using var oneByOne = bob.Join(invitation!);
        using var batched = bob.Join(invitation!);
        WriteHistory(ws, random);

        var feed = Feed(ws["ann"].Log.ToList(), random, out var forged);
        var expected = feed.SelectMany(d => oneByOne.Receive(d)).ToList();
        var actual = new List<ReceiveOutcome>();
        var largest = 0;
        for (var at = 0; at < feed.Count;)
        {
            var size = Math.Min(feed.Count - at, random.Next(1, 80));
            largest = Math.Max(largest, size);
            var outcomes = batched.ReceiveAll(feed.GetRange(at, size));
            Assert.Equal(size, outcomes.Length);
            actual.AddRange(outcomes.SelectMany(o => o));
            at += size;
        }

        Assert.Equal(expected, actual);
        Assert.Equal(oneByOne.State.StateHash(), batched.State.StateHash());
        // The paths the property is about were taken: applied deltas, forged copies dropped for
        // their signatures, and batches large enough to be verified in parallel.
        Assert.True(forged > 0);
        Assert.Contains(actual, o => o.Status == ReceiveStatus.Applied);
        Assert.Contains(actual, o => o is { Status: ReceiveStatus.Dropped, Reason: "bad signature" });
        Assert.True(largest >= 16, $"the largest batch had {largest} deltas");
        Assert.Contains(feed, d => d.InTree);
    }

    [Fact]
    public void A_device_leaving_a_card_early_in_a_batch_should_leave_its_later_delta_the_outcome_it_gets_one_by_one()
    {
        // Dan's card lists two devices; bob's copies know the card but have never received a delta
        // of either. One frame brings dan's new card without his second device, then a delta that
        // device wrote meanwhile. One by one, the second device is no longer on the current card
        // when its delta is reached; checked ahead, it still was. Both must answer alike, and as
        // every rule is judged at the delta's causal past, where the device is listed, both apply
        // it (it was dropped as "bad signature" by a replica that had not met the device before).
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager));
        using var dan = new TestMember("dan");
        using var second = DeviceIdentity.Generate();
        var twoDevices = ContactCard.Create(dan.Account, [dan.Device.Signing.PublicKeyBytes, second.Signing.PublicKeyBytes], [], 1_000);
        Assert.True(ws["ann"].Invite(twoDevices, Role.Participant, ws.Tick(), out var danInvitation).Ok);
        using var danFirst = Replica.Join(danInvitation!, dan.Account, dan.Device);
        using var danSecond = Replica.Join(danInvitation!, dan.Account, second);
        using var bob = new TestMember("bob");
        Assert.True(ws["ann"].Invite(bob.Card, Role.Participant, ws.Tick(), out var bobInvitation).Ok);
        using var oneByOne = bob.Join(bobInvitation!);
        using var batched = bob.Join(bobInvitation!);
        foreach (var d in ws["ann"].Log.ToList())
        {
            danFirst.Receive(Forge.OverTheWire(d));
            danSecond.Receive(Forge.OverTheWire(d));
            oneByOne.Receive(Forge.OverTheWire(d));
            batched.Receive(Forge.OverTheWire(d));
        }

        var oneDevice = ContactCard.Create(dan.Account, [dan.Device.Signing.PublicKeyBytes], [], 2_000);
        var newCard = danFirst.Author(ToolId.Workspace, new UpdateMemberCard(oneDevice), ws.Tick());
        var meanwhile = danSecond.Author(Chat, new CreateEntry(EntryFields.Of(("text", "written on the second device"))), ws.Tick());
        Assert.True(newCard.Ok, newCard.Rejection);
        Assert.True(meanwhile.Ok, meanwhile.Rejection);
        var frame = newCard.Deltas.Concat(meanwhile.Deltas).Select(Forge.OverTheWire).ToList();
        // Enough copies for the checks ahead to run in parallel as well.
        for (var i = 0; i < 20; i++) frame.Add(Forge.OverTheWire(meanwhile.Deltas[0]));

        var expected = frame.SelectMany(d => oneByOne.Receive(d)).ToList();
        var actual = batched.ReceiveAll(frame).SelectMany(o => o).ToList();

        Assert.Equal(expected, actual);
        Assert.Equal(oneByOne.State.StateHash(), batched.State.StateHash());
        Assert.Contains(expected, o => o.Id == meanwhile.Deltas[0].Id && o.Status == ReceiveStatus.Applied);
    }

    /// <summary>Entries by three authors (some signed together), role changes, and dan's removal with a key rotation, synced now and then so deltas depend on each other's.</summary>
    private static void WriteHistory(TestWorkspace ws, Random random)
    {
        var authors = new[] { "ann", "cat", "dan" };
        for (var step = 0; step < 150; step++)
        {
            var author = ws[authors[random.Next(authors.Length)]];
            if (!author.IsMember) continue;
            if (step == 100)
            {
                Assert.True(ws["ann"].Uninvite(ws.Member("dan").Id, ws.Tick()).Ok);
                ws.SyncAll();
                continue;
            }
            if (random.Next(20) == 0) ws["ann"].Author(ToolId.Workspace, new ChangeRole(ws.Member("cat").Id, (Role)random.Next(1, 4)), ws.Tick());
            else if (random.Next(8) == 0)
            {
                // Several entries signed together (one tree): verified once per root ahead.
                var count = random.Next(2, 20);
                author.AuthorMany(Chat, Enumerable.Range(0, count).Select(i => (DeltaOp)new CreateEntry(EntryFields.Of(("text", $"{step}.{i}")))), count, ws.Tick());
            }
            else author.Author(random.Next(2) == 0 ? Chat : Discussion, new CreateEntry(EntryFields.Of(("text", $"{step}"))), ws.Tick());
            if (random.Next(10) == 0) ws.SyncAll();
        }
        ws.SyncAll();
    }

    /// <summary>The log over the wire, a few lost, some twice, and forged copies (a flipped signature byte) before or after their originals; shuffled.</summary>
    private static List<SealedDelta> Feed(IReadOnlyList<SealedDelta> log, Random random, out int forged)
    {
        var feed = new List<SealedDelta>();
        forged = 0;
        foreach (var delta in log)
        {
            var roll = random.NextDouble();
            // The genesis always arrives: without it nothing applies and the comparison says little.
            if (roll < 0.05 && feed.Count > 0) continue;
            feed.Add(Forge.OverTheWire(delta));
            if (roll > 0.85) feed.Add(Forge.OverTheWire(delta));
            if (roll is > 0.05 and < 0.12)
            {
                feed.Add(Forge.Tampered(delta, delta.Bytes.Length - 1));
                forged++;
            }
        }
        // Mostly in order (a real batch is), with a tenth moved anywhere.
        for (var i = 0; i < feed.Count / 10; i++)
        {
            var from = random.Next(feed.Count);
            var item = feed[from];
            feed.RemoveAt(from);
            feed.Insert(random.Next(feed.Count + 1), item);
        }
        return feed;
    }
}

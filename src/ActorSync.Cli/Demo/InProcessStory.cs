using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;

namespace ActorSync.Cli.Demo;

/// <summary>
/// The main job's story for now: three devices (Ann, Bob, Cat) hold replicas of one workspace in
/// one process, work concurrently while "offline", then exchange every delta in a shuffled order
/// with duplicates and converge; finally Ann uninvites Cat, and Cat cannot read what follows.
/// Real crypto, real rules; only the network is a list in memory.
/// </summary>
internal static class InProcessStory
{
    private static readonly ToolId Discussion = new("discussion");
    private static readonly ToolId Notepad = new("notepad");
    private static readonly ToolId Files = new("files");
    private static readonly ToolId Chat = new("chat");

    public static int Run(TextWriter o, int seed)
    {
        var random = new Random(seed);
        var clock = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long Now() => clock += 3;

        using var ann = new Person("Ann");
        using var bob = new Person("Bob");
        using var cat = new Person("Cat");
        o.WriteLine($"ActorSync in-process story (seed {seed})");
        o.WriteLine();
        foreach (var p in new[] { ann, bob, cat }) o.WriteLine($"  {p.Name,-4} account {p.Account.Id}");
        o.WriteLine();

        using var annWs = Replica.Create("Garden club", ann.Account, ann.Device, ann.Card, Now(), out _);
        o.WriteLine($"1. Ann creates workspace \"Garden club\" ({annWs.Id}) and invites Bob (participant) and Cat (guest).");
        annWs.Invite(bob.Card, Role.Participant, Now(), out var bobInvite);
        annWs.Invite(cat.Card, Role.Guest, Now(), out var catInvite);
        using var bobWs = Replica.Join(bobInvite!, bob.Account, bob.Device);
        using var catWs = Replica.Join(catInvite!, cat.Account, cat.Device);
        foreach (var d in annWs.Log) { bobWs.Receive(d); catWs.Receive(d); }
        var replicas = new[] { annWs, bobWs, catWs };

        var note = Must(annWs.Author(Notepad, new CreateEntry(EntryFields.Of(("title", "Spring plan"), ("text", "tulips"))), Now())).Last;
        Exchange(replicas, random);
        o.WriteLine("2. Ann starts a note \"Spring plan\"; everyone has it.");
        o.WriteLine();
        o.WriteLine("3. Now all three work at once, each on their own copy, with no network between them:");
        var sent = new List<SealedDelta>();
        sent.AddRange(Must(annWs.Author(Discussion, new CreateEntry(EntryFields.Of(("title", "Seeds"), ("text", "Who orders the seeds?"))), Now())).Deltas);
        sent.AddRange(Must(annWs.Author(Notepad, new EditEntry(note.Id, EntryFields.Of(("text", "tulips and daffodils"))), Now())).Deltas);
        sent.AddRange(Must(bobWs.Author(Notepad, new EditEntry(note.Id, EntryFields.Of(("text", "tulips, then roses"))), Now())).Deltas);
        sent.AddRange(Must(annWs.Author(Files, Put("plan.txt", "beds 1-4: tulips"), Now())).Deltas);
        sent.AddRange(Must(bobWs.Author(Files, Put("plan.txt", "beds 1-4: roses"), Now())).Deltas);
        sent.AddRange(Must(catWs.Author(Chat, new CreateEntry(EntryFields.Of(("text", "Count me in for Saturday!"))), Now())).Deltas);
        o.WriteLine("   - Ann opens a topic, and Ann and Bob both edit the note and change plan.txt;");
        o.WriteLine("   - Cat (a guest) chats, and tries to post a topic:");
        var refused = catWs.Author(Discussion, new CreateEntry(EntryFields.Of(("text", "I am a guest"))), Now());
        o.WriteLine($"     refused on Cat's own device: {refused.Rejection}.");
        o.WriteLine();

        var deliveries = Exchange(replicas, random);
        o.WriteLine($"4. The network comes back: {deliveries} deliveries in a shuffled order, some of them twice.");
        foreach (var r in replicas) Show(o, r);
        var hashes = replicas.Select(r => r.State.StateHash()).ToList();
        o.WriteLine();
        foreach (var r in replicas) o.WriteLine($"   stateHash {r.Name,-4} {r.State.StateHash()}");
        if (hashes.Distinct().Count() != 1)
        {
            o.WriteLine("DIVERGED: the replicas disagree");
            return 1;
        }
        o.WriteLine("   All three replicas are identical.");
        o.WriteLine();

        Must(annWs.Uninvite(cat.Account.Id, Now()));
        Exchange(replicas, random);
        var secret = Must(annWs.Author(Discussion, new CreateEntry(EntryFields.Of(("text", "Surprise party for Cat on Sunday"))), Now())).Last;
        var catOutcome = catWs.Receive(secret)[0];
        bobWs.Receive(secret);
        o.WriteLine("5. Ann uninvites Cat: the workspace moves to a new key epoch wrapped for Ann and Bob only.");
        o.WriteLine($"   Ann then posts a topic. Bob applies it; Cat's copy says: {catOutcome.Status} ({catOutcome.Reason}).");
        o.WriteLine($"   stateHash Ann  {annWs.State.StateHash()}");
        o.WriteLine($"   stateHash Bob  {bobWs.State.StateHash()}");
        var ok = annWs.State.StateHash() == bobWs.State.StateHash() && catOutcome.Status != ReceiveStatus.Applied;
        o.WriteLine(ok ? "   Ann and Bob agree; Cat read nothing written after her removal." : "UNEXPECTED: see above");
        return ok ? 0 : 1;
    }

    private static AuthorResult Must(AuthorResult r) => r.Ok ? r : throw new InvalidOperationException(r.Rejection);

    private static PutFile Put(string path, string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var hash = System.Security.Cryptography.SHA256.HashData(bytes);
        return new PutFile(path, bytes.Length, hash, [new FileChunk(hash, bytes.Length)]);
    }

    /// <summary>Every replica sends every other what it lacks, shuffled and with some duplicates, until quiet.</summary>
    private static int Exchange(Replica[] replicas, Random random)
    {
        var count = 0;
        for (var round = 0; round < 10; round++)
        {
            var batch = (from source in replicas from target in replicas where source != target
                         from d in source.MissingFrom(target.Seen) select (target, d)).ToList();
            if (batch.Count == 0) break;
            batch.AddRange(batch.Where(_ => random.NextDouble() < 0.3).ToList());
            foreach (var (to, d) in batch.OrderBy(_ => random.Next()))
            {
                to.Receive(d);
                count++;
            }
        }
        return count;
    }

    private static void Show(TextWriter o, Replica r)
    {
        var s = r.State;
        o.WriteLine($"   {r.Name}'s copy:");
        foreach (var e in s.EntriesOf(Discussion)?.Live ?? []) o.WriteLine($"     discussion  \"{e["title"]}\": {e["text"]}");
        foreach (var e in s.EntriesOf(Notepad)?.Live ?? []) o.WriteLine($"     notepad     \"{e["title"]}\": {e["text"]}");
        foreach (var f in s.FilesOf(Files)?.View() ?? []) o.WriteLine($"     files       {f.Name} (v{f.Version.Version}, by {f.Version.AuthorName})");
        foreach (var e in s.EntriesOf(Chat)?.Live ?? []) o.WriteLine($"     chat        {s.Current.CardOf(e.Creator)?.Name}: {e["text"]}");
    }

    private sealed class Person : IDisposable
    {
        public Person(string name)
        {
            Name = name;
            Account = AccountIdentity.Generate(name);
            Device = DeviceIdentity.Generate();
            Card = ContactCard.Create(Account, [Device.Signing.PublicKeyBytes], [], DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }

        public string Name { get; }
        public AccountIdentity Account { get; }
        public DeviceIdentity Device { get; }
        public ContactCard Card { get; }

        public void Dispose()
        {
            Account.Dispose();
            Device.Dispose();
        }
    }
}

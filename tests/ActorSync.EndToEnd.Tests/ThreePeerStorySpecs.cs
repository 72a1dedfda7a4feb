using System.Security.Cryptography;
using ActorSync.EndToEnd.Tests.Support;
using Xunit;

namespace ActorSync.EndToEnd.Tests;

/// <summary>
/// The main story with three real `actorsync peer` processes on 127.0.0.1: swap cards, create a
/// workspace, invite and accept, post and reply, share files, chat; one peer is killed with SIGKILL
/// right after its own writes and restarted on the same port while the others keep writing; all three
/// converge on one stateHash and every replica holds every entry and every file byte.
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class ThreePeerStorySpecs
{
    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task Three_peers_should_converge_with_nothing_lost_when_one_is_killed_and_restarted_on_its_port()
    {
        await using var cluster = new PeerCluster();
        var peers = await cluster.StartAsync("Ann", "Bob", "Cat");
        var (ann, bob, cat) = (peers[0], peers[1], peers[2]);
        await PeerCluster.ExchangeCardsAsync(ann, bob, cat);

        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Garden club");
        await cluster.InviteAndJoinAsync(ann, ws, (bob, "participant"), (cat, "participant"));

        // What every replica must hold at the end: entry id -> text, and file name -> bytes.
        var discussion = new Dictionary<string, string>();
        var chat = new Dictionary<string, string>();
        var files = new Dictionary<string, byte[]>();
        async Task Post(PeerProcess who, string text, params string[] options) =>
            discussion.Add((await who.OkAsync(["discussion", "post", ws, text, .. options])).LastLine, text);
        async Task Say(PeerProcess who, string text) => chat.Add((await who.OkAsync("chat", "say", ws, text)).LastLine, text);
        async Task Put(PeerProcess who, string name, int size, int seed)
        {
            var bytes = new byte[size];
            new Random(seed).NextBytes(bytes);
            var path = Path.Combine(cluster.Root, "upload-" + Path.GetFileName(name));
            await File.WriteAllBytesAsync(path, bytes);
            await who.OkAsync("files", "put", ws, path, "--name", name);
            files.Add(name, bytes);
        }

        // Everyone works.
        await Post(ann, "Who orders the seeds this year?", "--title", "Seeds");
        var topic = discussion.Keys.Single();
        await Put(ann, "plan.bin", 300_000, seed: 1);
        await Say(cat, "Count me in for Saturday!");
        await cluster.EventuallyAsync("Bob to see Ann's topic", () => Listings.DiscussionAsync(bob, ws), l => l.Any(e => e.Id == topic),
            Listings.Describe);
        await Post(bob, "I will, and I'll add sunflowers.", "--reply-to", topic);
        var reply = discussion.Keys.Last();
        await Say(bob, "Ordering today.");
        await Put(bob, "bob/notes.txt", 2_000, seed: 2);

        // Bob's device crashes right after its own writes were made durable (maybe before they left).
        var bobPort = bob.Port;
        await bob.KillAsync();
        Assert.False(bob.IsRunning);

        // Ann and Cat write while Bob is down...
        await Post(ann, "Seeds ordered: tulips, sunflowers.");
        await Say(ann, "Bob, you missed this while you were away.");
        await Put(cat, "bed-layout.bin", 70_000, seed: 3);
        await Post(cat, "The shed key is under the pot.", "--title", "Shed");

        // ...and while he restarts on the same port.
        await Task.WhenAll(
            bob.StartAsync(),
            Task.Run(async () =>
            {
                await Say(cat, "Who has the wheelbarrow?");
                await Post(ann, "Delivery is on Friday.");
            }));
        Assert.Equal(bobPort, bob.Port);
        Assert.Equal(2, bob.Starts);
        await Say(bob, "Back again; I have the wheelbarrow.");

        var hash = await cluster.ConvergedAsync(ws, ann, bob, cat);

        // Nothing lost: every replica (the restarted one first) holds exactly the entries written, the same way.
        var annDiscussion = Listings.Canonical(await Listings.DiscussionAsync(ann, ws));
        var annChat = Listings.Canonical(await Listings.ChatAsync(ann, ws));
        foreach (var peer in new[] { bob, ann, cat })
        {
            var entries = await Listings.DiscussionAsync(peer, ws);
            Assert.Equal(discussion.OrderBy(e => e.Key, StringComparer.Ordinal), entries.Select(e => KeyValuePair.Create(e.Id, e.Text)).OrderBy(e => e.Key, StringComparer.Ordinal));
            Assert.Equal("Seeds", entries.Single(e => e.Id == topic).Field("title"));
            Assert.Equal(topic, entries.Single(e => e.Id == reply).Field("replyTo"));
            Assert.Equal("Bob", entries.Single(e => e.Id == reply).AuthorName);
            Assert.Equal(bob.Account, entries.Single(e => e.Id == reply).Author);
            Assert.Equal(annDiscussion, Listings.Canonical(entries));

            var lines = await Listings.ChatAsync(peer, ws);
            Assert.Equal(chat.OrderBy(e => e.Key, StringComparer.Ordinal), lines.Select(e => KeyValuePair.Create(e.Id, e.Text)).OrderBy(e => e.Key, StringComparer.Ordinal));
            Assert.Equal(annChat, Listings.Canonical(lines));

            foreach (var (name, bytes) in files)
            {
                // Content travels in chunks after the metadata: wait for the bytes, then compare them exactly.
                var got = await cluster.EventuallyAsync($"{peer.Name} to hold all of {name}", () => Listings.DownloadAsync(peer, ws, name),
                    b => b is not null && b.Length == bytes.Length, b => b is null ? "files get failed" : $"{b.Length} bytes");
                Assert.Equal(bytes, got);
            }
            var listed = await Listings.FilesAsync(peer, ws);
            Assert.Equal(
                files.Select(f => (f.Key, Convert.ToHexStringLower(SHA256.HashData(f.Value)))).OrderBy(f => f.Key, StringComparer.Ordinal),
                listed.Select(f => (f.Name, f.Hash)).OrderBy(f => f.Name, StringComparer.Ordinal));
            Assert.All(listed, f => Assert.False(f.ConflictCopy));
        }

        // Reading changed nothing, and the replicas still agree.
        Assert.Equal(hash, await cluster.ConvergedAsync(ws, ann, bob, cat));
    }
}

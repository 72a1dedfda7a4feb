using System.Security.Cryptography;
using System.Text;
using ActorSync.EndToEnd.Tests.Support;
using Xunit;

namespace ActorSync.EndToEnd.Tests;

/// <summary>
/// Both sides write while they cannot reach each other: Bob writes while Ann's and Cat's peers are
/// stopped; then Bob's peer is stopped (SIGTERM) and Ann and Cat write, including concurrent changes to
/// the topic and the file Bob changed; when Bob's peer comes back on its port, all three converge and
/// nothing written on either side is lost (the losing concurrent file change survives as a conflict copy).
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class OfflineConvergenceSpecs
{
    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task Peers_that_wrote_while_disconnected_should_converge_when_the_stopped_peer_returns()
    {
        await using var cluster = new PeerCluster();
        var peers = await cluster.StartAsync("Ann", "Bob", "Cat");
        var (ann, bob, cat) = (peers[0], peers[1], peers[2]);
        await PeerCluster.ExchangeCardsAsync(ann, bob, cat);
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Allotment");
        await cluster.InviteAndJoinAsync(ann, ws, (bob, "participant"), (cat, "participant"));

        var discussion = new Dictionary<string, string>();
        var chat = new HashSet<string>();
        async Task<string> Post(PeerProcess who, string text, params string[] options)
        {
            var id = (await who.OkAsync(["discussion", "post", ws, text, .. options])).LastLine;
            discussion.Add(id, text);
            return id;
        }
        async Task Say(PeerProcess who, string text) => chat.Add((await who.OkAsync("chat", "say", ws, text)).LastLine);
        async Task Put(PeerProcess who, string name, string content)
        {
            var path = Path.Combine(cluster.Root, $"{who.Name}-{Guid.NewGuid():N}.txt");
            await File.WriteAllTextAsync(path, content);
            await who.OkAsync("files", "put", ws, path, "--name", name);
        }

        var topic = await Post(ann, "Water the beans on Tuesdays.", "--title", "Rota");
        await Put(ann, "plan.txt", "beds 1-4: tulips\n");
        await cluster.ConvergedAsync(ws, ann, bob, cat);

        // Ann and Cat go offline (clean stop); Bob alone writes, among it a change to plan.txt.
        Assert.Equal(0, await ann.TerminateAsync());
        Assert.Equal(0, await cat.TerminateAsync());
        var bobReply = await Post(bob, "I can do Tuesdays.", "--reply-to", topic);
        await Post(bob, "Compost bins need turning.", "--title", "Compost");
        await Say(bob, "Anyone around this weekend?");
        var bobPlan = "beds 1-4: tulips\nbed 5: sunflowers (Bob)\n";
        await Put(bob, "plan.txt", bobPlan);

        // Bob goes offline (SIGTERM: a clean stop that removes its API address); Ann and Cat come back and write.
        Assert.Equal(0, await bob.TerminateAsync());
        Assert.False(File.Exists(bob.ApiAddressPath));
        Assert.Contains("\nstopping", bob.ReadLog(), StringComparison.Ordinal);
        await Task.WhenAll(ann.StartAsync(), cat.StartAsync());
        await ann.OkAsync("discussion", "edit", ws, topic, "Water the beans on Tuesdays and Fridays.");
        discussion[topic] = "Water the beans on Tuesdays and Fridays.";
        var annPlan = "beds 1-4: tulips\nbed 5: pumpkins (Ann)\n";
        await Put(ann, "plan.txt", annPlan);
        await Post(cat, "New hose arrives Monday.", "--title", "Hose");
        await Say(cat, "I'll be there on Saturday.");
        await Say(ann, "Bob, where are you?");
        // Ann and Cat agree between themselves while Bob is away.
        await cluster.ConvergedAsync(ws, ann, cat);

        // Bob returns on his port and writes at once; everyone converges.
        var bobPort = bob.Port;
        await bob.StartAsync();
        Assert.Equal(bobPort, bob.Port);
        await Say(bob, "Back. Sorry!");
        await cluster.ConvergedAsync(ws, ann, bob, cat);

        var annDiscussion = Listings.Canonical(await Listings.DiscussionAsync(ann, ws));
        var annChat = Listings.Canonical(await Listings.ChatAsync(ann, ws));
        var annFiles = await Listings.FilesAsync(ann, ws);
        foreach (var peer in new[] { bob, ann, cat })
        {
            var entries = await Listings.DiscussionAsync(peer, ws);
            Assert.Equal(discussion.OrderBy(e => e.Key, StringComparer.Ordinal), entries.Select(e => KeyValuePair.Create(e.Id, e.Text)).OrderBy(e => e.Key, StringComparer.Ordinal));
            Assert.Equal(topic, entries.Single(e => e.Id == bobReply).Field("replyTo"));
            Assert.Equal(annDiscussion, Listings.Canonical(entries));

            var lines = await Listings.ChatAsync(peer, ws);
            Assert.Equal(chat.Order(StringComparer.Ordinal), lines.Select(e => e.Id).Order(StringComparer.Ordinal));
            Assert.Equal(annChat, Listings.Canonical(lines));

            // Both concurrent versions of plan.txt survive: one at its name, the other as a conflict copy.
            var listed = await Listings.FilesAsync(peer, ws);
            Assert.Equal(annFiles.Select(f => (f.Name, f.Hash)), listed.Select(f => (f.Name, f.Hash)));
            Assert.Equal(2, listed.Count);
            Assert.Contains(listed, f => f.Name == "plan.txt" && !f.ConflictCopy);
            var copy = Assert.Single(listed, f => f.ConflictCopy);
            Assert.StartsWith("plan (conflict ", copy.Name, StringComparison.Ordinal);
            var expected = new[] { bobPlan, annPlan }.Order(StringComparer.Ordinal).ToList();
            var contents = new List<string>();
            foreach (var file in listed)
            {
                var bytes = await cluster.EventuallyAsync($"{peer.Name} to hold all of {file.Name}", () => Listings.DownloadAsync(peer, ws, file.Name),
                    b => b is not null && b.Length == file.Size, b => b is null ? "files get failed" : $"{b.Length} bytes");
                Assert.Equal(file.Hash, Convert.ToHexStringLower(SHA256.HashData(bytes!)));
                contents.Add(Encoding.UTF8.GetString(bytes!));
            }
            Assert.Equal(expected, contents.Order(StringComparer.Ordinal));
        }
    }
}

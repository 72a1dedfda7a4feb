using System.Diagnostics;
using System.Text;
using ActorSync.EndToEnd.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.EndToEnd.Tests.Relay;

/// <summary>
/// A relay cluster of three `actorsync relay` processes sharing one PostgreSQL journal, and three
/// peers (Ann, Bob, Cat) whose designated relay is node 1. Cat's peer stops; Ann and Bob make many
/// changes, and meanwhile relay node 3 is killed with SIGKILL. Ann and Bob stop; Cat comes back and
/// catches up from her relay mailbox alone, then all three converge with nothing lost (the mailbox content held by the crashed node is recovered by a survivor from the
/// shared journal). Afterwards no relay file, relay log or database row holds a marker text in
/// plaintext, and neither do the peers' own journals.
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class RelayClusterEndToEndSpecs(ITestOutputHelper output)
{
    /// <summary>Changes each of Ann and Bob makes while Cat is offline (1,000 in all).</summary>
    private const int ChangesEach = 500;

    /// <summary>Catching up 1,000 changes through a cluster that just lost a node takes longer than one verb.</summary>
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(240);

    [Theory(Timeout = PeerProcessesCollection.TestTimeout)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_offline_peer_should_catch_up_through_a_relay_cluster_that_lost_a_node_and_the_relay_should_hold_no_plaintext(bool httpOnly)
    {
        var clock = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,7:F1} s  {what}");

        await using var cluster = new PeerCluster();
        await using var postgres = await PostgresServer.StartAsync();
        Step("PostgreSQL started");
        var journal = "postgres:" + postgres.ConnectionString;
        var relays = Enumerable.Range(1, 3)
            .Select(i => new RelayProcess($"relay-{i}", Path.Combine(cluster.Root, $"relay-{i}"), Path.Combine(cluster.Root, $"relay-{i}.log"))
            {
                Http = httpOnly,
            })
            .ToArray();
        string Describe() => string.Join("\n", relays.Select(r => r.Describe())) + "\n" + cluster.Describe();
        try
        {
            // The relay cluster: node 1 seeds it, nodes 2 and 3 join; wait until the leader has moved both to Up.
            // The leader is the lowest address among the members, which may be node 2 or 3 by the
            // time the second joins (ports are random): read every node's log.
            await relays[0].StartAsync(journal);
            await Task.WhenAll(relays[1].StartAsync(journal, relays[0].ClusterAddress), relays[2].StartAsync(journal, relays[0].ClusterAddress));
            await cluster.EventuallyAsync("relay nodes 2 and 3 to be Up in the cluster",
                () => Task.FromResult(string.Concat(relays.Select(r => r.ReadLog()))),
                log => relays.Skip(1).All(r => log.Contains($"Leader is moving node [{r.ClusterAddress}] to [Up]", StringComparison.Ordinal)),
                log => RelayProcess.Tail(log, 10));
            Step("relay cluster of three nodes up");

            // Three devices whose designated relay is node 1 (what `init --relay ADDRESS` writes into
            // the home). With httpOnly, that is node 1's HTTP/1.1 gateway, the peers' ladder has only
            // the HTTP rung, and they listen for no direct links: every byte goes through the gateway.
            var peers = new List<PeerProcess>();
            foreach (var name in new[] { "Ann", "Bob", "Cat" })
            {
                var peer = await cluster.InitAsync(name);
                await File.WriteAllLinesAsync(Path.Combine(peer.Home, "relays"), [httpOnly ? relays[0].HttpAddress : relays[0].Address]);
                if (httpOnly)
                {
                    peer.ListenOff = true;
                    peer.ConfigFile = Path.Combine(peer.Home, "http-only.hocon");
                    await File.WriteAllTextAsync(peer.ConfigFile, "actorsync.peer.links.relay-routes = [http]\n");
                }
                peers.Add(peer);
            }
            await Task.WhenAll(peers.Select(p => p.StartAsync()));
            var (ann, bob, cat) = (peers[0], peers[1], peers[2]);
            await PeerCluster.ExchangeCardsAsync(ann, bob, cat);
            var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Relay club");
            await cluster.InviteAndJoinAsync(ann, ws, (bob, "participant"), (cat, "participant"));
            var topic = (await ann.OkAsync("discussion", "post", ws, "Everything goes through the relay while Cat is away.", "--title", "Rota")).LastLine;
            await cluster.ConvergedAsync(ws, ann, bob, cat);
            Step($"peers joined workspace {ws} and converged");

            // Cat goes offline (SIGTERM); a marker text then travels to her mailbox at the relay.
            Assert.Equal(0, await cat.TerminateAsync());
            var marker = "plaintext-marker-" + Guid.NewGuid().ToString("N");
            var markerId = (await ann.OkAsync("discussion", "post", ws, $"The secret word is {marker}.", "--reply-to", topic)).LastLine;
            Step("Cat stopped; Ann posted the marker entry");

            // Ann and Bob write at once, through their local APIs; halfway through Ann's share, relay node 3 dies (kill -9).
            var discussion = new HashSet<string> { topic, markerId };
            var chat = new HashSet<string>();
            var gate = new object();
            async Task Write(PeerProcess who, Func<int, Task>? atHalf)
            {
                using var api = new PeerApi(who);
                for (var i = 0; i < ChangesEach; i++)
                {
                    if (i == ChangesEach / 2 && atHalf is not null) await atHalf(i);
                    var inDiscussion = i % 2 == 0;
                    var text = $"{who.Name} change {i}";
                    var id = await api.CreateAsync(ws, inDiscussion ? "discussion" : "chat", new Dictionary<string, string> { ["text"] = text });
                    lock (gate) (inDiscussion ? discussion : chat).Add(id);
                }
            }
            await Task.WhenAll(
                Write(ann, async _ =>
                {
                    await relays[2].KillAsync();
                    Step("relay node 3 killed (SIGKILL)");
                }),
                Write(bob, null));
            Assert.False(relays[2].IsRunning);
            Assert.Equal(ChangesEach + 2, discussion.Count);
            Assert.Equal(ChangesEach, chat.Count);
            Step($"Ann and Bob made {2 * ChangesEach} changes");
            var written = await cluster.ConvergedAsync(ws, ann, bob);
            Step("Ann and Bob converged");

            // Ann and Bob go offline too (SIGTERM: a stopping peer waits until the relay confirms its
            // enqueues durable), so Cat can only catch up from her mailbox at the relay cluster.
            Assert.Equal(0, await ann.TerminateAsync());
            Assert.Equal(0, await bob.TerminateAsync());
            Step("Ann and Bob stopped");
            await cat.StartAsync();
            await cluster.EventuallyAsync("Cat to catch up from her relay mailbox alone (Ann and Bob offline)",
                () => cat.RunAsync("ws", "show", ws, "--json"),
                show => show.ExitCode == 0 && Listings.Parse(show.Stdout).GetProperty("stateHash").GetString() == written,
                show => $"Cat's `ws show`: {show.Stdout.Trim()} {show.Stderr.Trim()}\nAnn and Bob's stateHash: {written}\n{Describe()}",
                CatchUp);
            var catDevice = (await cat.OkAsync("info", "--json")).Stdout;
            // A survivor logs "Mailbox X recovered: N envelopes" when it starts a mailbox that has envelopes in the journal.
            var moved = relays.Take(2).Any(r => System.Text.RegularExpressions.Regex.Matches(r.ReadLog(), @"/mailbox/\d+/([A-Z0-9-]+)\] Mailbox \S+ recovered: ")
                .Any(m => catDevice.Contains(m.Groups[1].Value, StringComparison.Ordinal)));
            Step($"Cat caught up through the relay alone (her mailbox {(moved ? "was on node 3 and was recovered by a survivor" : "was not seen moving from node 3")})");

            // Ann and Bob return; all three agree.
            await Task.WhenAll(ann.StartAsync(), bob.StartAsync());
            var hashes = await cluster.EventuallyAsync("Ann, Bob and Cat to agree once all are back",
                () => Task.WhenAll(peers.Select(p => PeerCluster.StateHashAsync(p, ws))),
                h => h.All(x => x is { Length: 64 }) && h.Distinct().Count() == 1,
                h => string.Join(", ", peers.Select((p, i) => $"{p.Name}={h[i] ?? "(no answer)"}")) + "\n" + Describe(),
                CatchUp);
            Assert.Equal(written, hashes[0]);
            Step($"all three converged on {hashes[0]}");
            if (httpOnly)
            {
                var routes = (await ann.OkAsync("ws", "show", ws)).Stdout;
                Assert.Contains("relay-http", routes, StringComparison.Ordinal);
                Assert.DoesNotContain("direct", routes, StringComparison.Ordinal);
            }

            // The mailboxes end empty: as each sender's relay answers, nothing it sent still waits for anyone.
            await cluster.EventuallyAsync("nothing any peer sent to still wait at the relay",
                () => Task.WhenAll(peers.Select(p => p.RunAsync("ws", "show", ws, "--json"))),
                shows => shows.All(show => show.ExitCode == 0 && WaitingAtRelay(show.Stdout).All(n => n == 0)),
                shows => string.Join("\n", shows.Select(show => show.Stdout.Trim())),
                CatchUp);
            Step("no envelope left waiting at the relay");

            var annDiscussion = await Listings.DiscussionAsync(ann, ws);
            var catDiscussion = await Listings.DiscussionAsync(cat, ws);
            var catChat = await Listings.ChatAsync(cat, ws);
            Assert.Equal(Listings.Canonical(annDiscussion), Listings.Canonical(catDiscussion));
            Assert.Equal(Listings.Canonical(await Listings.ChatAsync(ann, ws)), Listings.Canonical(catChat));
            Assert.Equal(Listings.Canonical(await Listings.ChatAsync(bob, ws)), Listings.Canonical(catChat));
            Assert.Empty(discussion.Except(catDiscussion.Select(e => e.Id)));
            Assert.Empty(chat.Except(catChat.Select(e => e.Id)));
            Assert.Equal($"The secret word is {marker}.", catDiscussion.Single(e => e.Id == markerId).Text);

            // The relay never saw the marker: not in any relay home file, relay log or database row.
            var needles = Needles(marker);
            var relayFiles = relays.SelectMany(r => FilesUnder(r.Home).Append(r.LogPath)).ToList();
            Assert.Contains(relayFiles, f => f.EndsWith(".log", StringComparison.Ordinal) && new FileInfo(f).Length > 0);
            var relayHits = Hits(relayFiles, needles);
            Assert.True(relayHits.Count == 0, "the marker is in relay files: " + string.Join(", ", relayHits));
            var databaseHits = Hits(FilesUnder(postgres.DataDir), needles);
            Assert.True(databaseHits.Count == 0, "the marker is in PostgreSQL's data files: " + string.Join(", ", databaseHits));
            if (await postgres.DumpAsync() is { } dump)
            {
                Assert.Contains("journal", dump, StringComparison.OrdinalIgnoreCase);
                Assert.True(Hits(Encoding.UTF8.GetBytes(dump), needles) is null, "the marker is in pg_dump's output");
            }
            Step("no plaintext marker in relay homes, relay logs, PostgreSQL data files or pg_dump");

            // Nor do the peers' journals hold it in plaintext (their events carry sealed deltas).
            var journalFiles = peers.SelectMany(p => FilesUnder(p.Home).Where(f => Path.GetFileName(f).StartsWith("journal.db", StringComparison.Ordinal))).ToList();
            Assert.Equal(3, journalFiles.Count(f => Path.GetFileName(f) == "journal.db"));
            var journalHits = Hits(journalFiles, needles);
            Assert.True(journalHits.Count == 0, "the marker is in plaintext in peer journals: " + string.Join(", ", journalHits));
            Step("no plaintext marker in the peers' journals");
        }
        catch (Exception) when (Report(Describe()))
        {
            throw;
        }
        finally
        {
            foreach (var peer in cluster.Peers) await peer.DisposeAsync();
            foreach (var relay in relays) await relay.DisposeAsync();
        }
    }

    /// <summary>The "waitingAtRelay" counts of every member device in `ws show --json` (absent ones: nothing sent through the relay).</summary>
    private static IEnumerable<int> WaitingAtRelay(string json) =>
        Listings.Parse(json).GetProperty("members").EnumerateArray()
            .SelectMany(m => m.GetProperty("devices").EnumerateArray())
            .Select(d => d.TryGetProperty("waitingAtRelay", out var w) && w.ValueKind == System.Text.Json.JsonValueKind.Number ? w.GetInt32() : 0)
            .ToList();

    private bool Report(string text)
    {
        output.WriteLine(text);
        return false;
    }

    /// <summary>The marker as UTF-8, UTF-16 and lower/upper-case hex of its UTF-8 (how bytea prints).</summary>
    private static List<(string Form, byte[] Bytes)> Needles(string marker)
    {
        var utf8 = Encoding.UTF8.GetBytes(marker);
        return
        [
            ("utf-8", utf8),
            ("utf-16", Encoding.Unicode.GetBytes(marker)),
            ("hex", Encoding.ASCII.GetBytes(Convert.ToHexStringLower(utf8))),
            ("HEX", Encoding.ASCII.GetBytes(Convert.ToHexString(utf8))),
            ("base64", Encoding.ASCII.GetBytes(Convert.ToBase64String(utf8)[..^4])),
        ];
    }

    private static IEnumerable<string> FilesUnder(string dir) =>
        Directory.Exists(dir) ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories) : [];

    private static List<string> Hits(IEnumerable<string> files, List<(string Form, byte[] Bytes)> needles)
    {
        var hits = new List<string>();
        foreach (var file in files)
        {
            byte[] bytes;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // a file that vanished meanwhile (a temp file of the server)
            }
            if (Hits(bytes, needles) is { } form) hits.Add($"{file} ({form})");
        }
        return hits;
    }

    private static string? Hits(byte[] haystack, List<(string Form, byte[] Bytes)> needles) =>
        needles.FirstOrDefault(n => haystack.AsSpan().IndexOf(n.Bytes) >= 0).Form;
}

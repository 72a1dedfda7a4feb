using System.Text.Json;
using ActorSync.EndToEnd.Tests.Support;
using Xunit;

namespace ActorSync.EndToEnd.Tests.Lifecycle;

/// <summary>
/// Log pruning with real peer processes: once every member has acknowledged the posts, they leave
/// the log and the journal (a snapshot covers them); the pruned peer restarts from its snapshot;
/// a member invited afterwards starts from an image its inviter sends, and all converge.
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class PruningSpecs
{
    private static async Task<JsonElement> RetentionAsync(PeerProcess peer, string ws)
    {
        using var doc = JsonDocument.Parse((await peer.OkAsync("ws", "show", ws, "--json")).Stdout);
        return doc.RootElement.GetProperty("retention").Clone();
    }

    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task Deltas_everyone_acknowledged_should_be_pruned_and_a_later_invitee_should_start_from_an_image()
    {
        await using var cluster = new PeerCluster();
        var peers = new List<PeerProcess>();
        foreach (var name in new[] { "Ann", "Bob", "Cat" })
        {
            var peer = await cluster.InitAsync(name);
            peer.ConfigFile = Path.Combine(peer.Home, "pruning.hocon");
            await File.WriteAllTextAsync(peer.ConfigFile, "actorsync.workspace.prune-after = 10\n");
            peers.Add(peer);
        }
        await Task.WhenAll(peers.Select(p => p.StartAsync()));
        var (ann, bob, cat) = (peers[0], peers[1], peers[2]);
        await PeerCluster.ExchangeCardsAsync(ann, bob, cat);
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Allotment");
        await cluster.InviteAndJoinAsync(ann, ws, (bob, "participant"));
        for (var i = 0; i < 12; i++) await (i % 2 == 0 ? ann : bob).OkAsync("chat", "say", ws, $"post {i}");
        await cluster.ConvergedAsync(ws, ann, bob);

        foreach (var peer in new[] { ann, bob })
            await cluster.EventuallyAsync($"{peer.Name} to prune what both hold",
                () => RetentionAsync(peer, ws), r => r.GetProperty("pruned").GetInt64() >= 10, r => r.ToString());
        await cluster.EventuallyAsync("Ann's snapshot to be saved", () => Task.FromResult(ann.ReadLog()),
            log => log.Contains($"Workspace {ws}: snapshot at ", StringComparison.Ordinal), _ => "no snapshot logged");

        // Ann restarts from her snapshot: same state, and the pruned posts are still shown.
        var hash = await cluster.ConvergedAsync(ws, ann, bob);
        Assert.Equal(0, await ann.TerminateAsync());
        await ann.StartAsync();
        Assert.Equal(hash, await PeerCluster.StateHashAsync(ann, ws));
        Assert.Contains("recovered in", ann.ReadLog(), StringComparison.Ordinal);
        Assert.Contains("from a snapshot", ann.ReadLog(), StringComparison.Ordinal);
        Assert.Equal(12, (await Listings.ChatAsync(ann, ws)).Count);

        // Cat joins after the pruning: nobody's log holds the posts any more, Ann's image brings them.
        await cluster.InviteAndJoinAsync(ann, ws, (cat, "participant"));
        await cluster.ConvergedAsync(ws, ann, bob, cat);
        Assert.Contains("started from an image", cat.ReadLog(), StringComparison.Ordinal);
        Assert.Equal(12, (await Listings.ChatAsync(cat, ws)).Count);
        await cat.OkAsync("chat", "say", ws, "Cat joins in");
        await cluster.ConvergedAsync(ws, ann, bob, cat);
    }
}

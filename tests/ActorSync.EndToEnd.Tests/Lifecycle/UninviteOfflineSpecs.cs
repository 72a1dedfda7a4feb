using System.Text.Json;
using ActorSync.EndToEnd.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace ActorSync.EndToEnd.Tests.Lifecycle;

/// <summary>
/// Uninvite of an offline member, with real processes and a relay on SQLite: Cat is removed while her
/// peer is stopped; she comes back while Ann is away, learns of the removal from her relay mailbox,
/// erases her copy and sends a signed deletion receipt, which Ann finds in her own mailbox on return.
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class UninviteOfflineSpecs
{
    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task Member_removed_while_offline_should_erase_its_copy_on_return_and_the_remover_should_see_its_receipt()
    {
        await using var cluster = new PeerCluster();
        await using var relay = new RelayProcess("relay", Path.Combine(cluster.Root, "relay"), Path.Combine(cluster.Root, "relay.log"));
        await relay.StartAsync("sqlite:" + Path.Combine(cluster.Root, "relay", "relay.db"));
        var peers = new List<PeerProcess>();
        foreach (var name in new[] { "Ann", "Cat" })
        {
            var peer = await cluster.InitAsync(name);
            await File.WriteAllLinesAsync(Path.Combine(peer.Home, "relays"), [relay.Address]);
            peers.Add(peer);
        }
        await Task.WhenAll(peers.Select(p => p.StartAsync()));
        var (ann, cat) = (peers[0], peers[1]);
        await PeerCluster.ExchangeCardsAsync(ann, cat);
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Allotment");
        await cluster.InviteAndJoinAsync(ann, ws, (cat, "participant"));
        await cat.OkAsync("chat", "say", ws, "Cat was here");
        await cluster.ConvergedAsync(ws, ann, cat);

        // Cat goes offline; Ann removes her and writes on; then Ann goes offline too.
        Assert.Equal(0, await cat.TerminateAsync());
        await ann.OkAsync("ws", "uninvite", ws, cat.Account);
        await ann.OkAsync("chat", "say", ws, "written after Cat's removal");
        var before = JsonDocument.Parse((await ann.OkAsync("ws", "show", ws, "--json")).Stdout).RootElement;
        Assert.Equal(0, before.GetProperty("removed")[0].GetProperty("deleted").GetArrayLength());
        Assert.Equal(0, await ann.TerminateAsync());

        // Cat returns with nobody else online: the removal waits in her relay mailbox. No member can
        // confirm her handover, so she erases once leave-handover (shortened here) has passed.
        cat.ConfigFile = Path.Combine(cat.Home, "handover.hocon");
        await File.WriteAllTextAsync(cat.ConfigFile, "actorsync.workspace.leave-handover = 3s\n");
        await cat.StartAsync();
        await cluster.EventuallyAsync("Cat's peer to erase the workspace",
            async () => (await cat.OkAsync("ws", "list", "--json")).Stdout,
            list => !list.Contains(ws, StringComparison.Ordinal), list => list);
        Assert.Contains("erasing this device's copy", cat.ReadLog(), StringComparison.Ordinal);
        Assert.Equal(0L, JournalRows(cat, ws));

        // Ann returns and finds Cat's signed receipt in her mailbox.
        await ann.StartAsync();
        var shown = await cluster.EventuallyAsync("Ann to hold Cat's deletion receipt",
            async () => (await ann.OkAsync("ws", "show", ws)).Stdout,
            text => text.Contains("(signed receipt)", StringComparison.Ordinal), text => text);
        Assert.Contains("Cat", shown, StringComparison.Ordinal);
    }

    private static long JournalRows(PeerProcess peer, string ws)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(peer.Home, "journal.db")};Mode=ReadOnly");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id";
        count.Parameters.AddWithValue("$id", "ws-" + ws);
        return (long)count.ExecuteScalar()!;
    }
}

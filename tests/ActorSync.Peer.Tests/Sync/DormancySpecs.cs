using ActorSync.Core.Permissions;
using ActorSync.Peer.Api;
using Xunit;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>Dormancy on an injected clock: 22 days pass while a member's peer is stopped.</summary>
public class DormancySpecs
{
    private static Dictionary<string, string> Text(string text) => new() { ["text"] = text };

    private static async Task<MemberDeviceView> DeviceAsync(TestPeer at, string ws, string device) =>
        (await at.Api.ShowWorkspaceAsync(ws, default)).Members.SelectMany(m => m.Devices).Single(d => d.Device == device);

    private static async Task InviteAndAcceptAsync(TestPeer ann, TestPeer bob, string bobAccount, string ws)
    {
        await ann.Api.InviteAsync(ws, bobAccount, Role.Participant, default);
        await TestPeer.Eventually(async () => (await bob.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "invitation");
        await bob.Api.AcceptAsync(ws, default);
    }

    /// <summary>24 days pass, three at a time, for Ann, who keeps her peer running (it counts as entering the workspace every day).</summary>
    private static async Task WeeksPassAsync(ShiftedClock clock, TestPeer ann, string ws)
    {
        for (var day = 3; day <= 24; day += 3)
        {
            clock.Offset = TimeSpan.FromDays(day);
            var now = clock.GetUtcNow();
            await TestPeer.Eventually(async () => DateTimeOffset.Parse((await ann.Api.ShowWorkspaceAsync(ws, default)).EnteredAt!) >= now,
                $"ann's peer keeps the workspace entered on day {day}");
        }
    }

    [Fact]
    public async Task Device_away_longer_than_dormant_after_should_stop_syncing_until_a_manager_reinvites_it_then_catch_up()
    {
        var clock = new ShiftedClock();
        await using var ann = await TestPeer.StartAsync("ann", clock: clock);
        await using var bob = await TestPeer.StartAsync("bob", clock: clock);
        await TestPeer.ConnectAsync(ann, bob);
        var ws = await ann.Api.CreateWorkspaceAsync("Seasonal", default);
        var bobInfo = await bob.Api.InfoAsync(default);
        await InviteAndAcceptAsync(ann, bob, bobInfo.Account, ws);
        await TestPeer.Eventually(async () => (await bob.Api.JoinProgressAsync(ws, default)).Complete, "first copy");
        await bob.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("see you in spring"), default);
        await TestPeer.Eventually(async () => (await ann.Api.EntriesAsync(ws, ToolKind.Chat, default)).Count == 1, "bob's post reaches ann");
        Assert.NotEqual("dormant", (await DeviceAsync(ann, ws, bobInfo.Device)).Presence);

        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention is { PinnedBy.Count: 0 },
            "bob confirms all of ann's log");
        await bob.Host.DisposeAsync();
        var winter = await ann.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("written while bob was away"), default);
        // Bob has not confirmed Ann's new delta: he pins it in her log...
        var pinned = (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention!;
        Assert.Equal(1, pinned.PinnedBy.Single(p => p.Device == bobInfo.Device).Deltas);
        Assert.Equal(pinned.Logged - 1, pinned.HeldByAll);

        // Weeks pass for Ann, who keeps her peer running (it counts as entering the workspace every
        // day); Bob's stays stopped.
        await WeeksPassAsync(clock, ann, ws);
        Assert.False((await ann.Api.ShowWorkspaceAsync(ws, default)).Dormant);
        await TestPeer.Eventually(async () => (await DeviceAsync(ann, ws, bobInfo.Device)).Presence == "dormant", "bob's device is dormant at ann");
        // ...until he is dormant: then he holds nothing back.
        var released = (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention!;
        Assert.Empty(released.PinnedBy);
        Assert.Equal(released.Logged, released.HeldByAll);

        // Bob comes back: his copy has not been entered for 24 days, so it is dormant and does not sync.
        await bob.RestartAsync();
        await TestPeer.ConnectAsync(ann, bob);
        await TestPeer.Eventually(async () => (await bob.Api.ShowWorkspaceAsync(ws, default)).Dormant, "bob's copy is dormant");
        var refused = await Assert.ThrowsAsync<PeerRequestException>(() => bob.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("hello?"), default));
        Assert.Equal(409, refused.Status);

        // Only a manager's re-invitation wakes it; then it catches up from Ann.
        Assert.Equal(1, await ann.Api.ReinviteAsync(ws, bobInfo.Account, default));
        await TestPeer.Eventually(async () => !(await bob.Api.ShowWorkspaceAsync(ws, default)).Dormant, "bob's copy wakes");
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).StateHash == (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash, "bob catches up");
        Assert.Contains(await bob.Api.EntriesAsync(ws, ToolKind.Chat, default), e => e.Id == winter);
        await bob.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("back"), default);
        await TestPeer.Eventually(async () => (await ann.Api.EntriesAsync(ws, ToolKind.Chat, default)).Count == 3, "bob's new post reaches ann");
        Assert.NotEqual("dormant", (await DeviceAsync(ann, ws, bobInfo.Device)).Presence);
        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention is { PinnedBy.Count: 0 } r && r.HeldByAll == r.Logged,
            "bob confirms everything again");
    }

    private static long EnteredRecords(TestPeer peer, string ws)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(peer.HomePath, "journal.db")};Mode=ReadOnly");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM journal WHERE persistence_id = $id AND manifest = 'we'";
        count.Parameters.AddWithValue("$id", "ws-" + ws);
        return (long)count.ExecuteScalar()!;
    }

    [Fact]
    public async Task Dormant_copy_whose_gap_was_pruned_should_catch_up_from_its_reinviters_image()
    {
        const string pruning = "actorsync.workspace.prune-after = 5";
        var clock = new ShiftedClock();
        await using var ann = await TestPeer.StartAsync("ann", clock: clock, extraConfig: pruning);
        await using var bob = await TestPeer.StartAsync("bob", clock: clock, extraConfig: pruning);
        await TestPeer.ConnectAsync(ann, bob);
        var ws = await ann.Api.CreateWorkspaceAsync("Seasonal", default);
        var bobInfo = await bob.Api.InfoAsync(default);
        await InviteAndAcceptAsync(ann, bob, bobInfo.Account, ws);
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).StateHash == (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash, "bob's first copy");
        await bob.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("see you in spring"), default);
        await TestPeer.Eventually(async () => (await ann.Api.EntriesAsync(ws, ToolKind.Chat, default)).Count == 1, "bob's post reaches ann");
        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention is { PinnedBy.Count: 0 },
            "bob confirms all of ann's log");
        // A copy never recorded as entered is a brand new one, which never counts as dormant: wait for Bob's first record.
        await TestPeer.Eventually(() => Task.FromResult(EnteredRecords(bob, ws) > 0), "bob's copy recorded as entered");

        // Bob stops; Ann writes on and keeps running for weeks, so Bob goes dormant and pins nothing:
        // Ann prunes what he never received.
        await bob.Host.DisposeAsync();
        await ann.Api.CreateEntriesAsync(ws, ToolKind.Chat, Enumerable.Range(0, 12).Select(i => (IReadOnlyDictionary<string, string>)Text("winter " + i)).ToList(), default);
        await WeeksPassAsync(clock, ann, ws);
        await TestPeer.Eventually(async () => (await ann.Api.ShowWorkspaceAsync(ws, default)).Retention!.Pruned >= 12, "ann prunes what dormant bob lacks");

        // Re-invited, Bob cannot be served from Ann's log: her image brings him up to date.
        await bob.RestartAsync();
        await TestPeer.ConnectAsync(ann, bob);
        await TestPeer.Eventually(async () => (await bob.Api.ShowWorkspaceAsync(ws, default)).Dormant, "bob's copy is dormant");
        Assert.Equal(1, await ann.Api.ReinviteAsync(ws, bobInfo.Account, default));
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).StateHash == (await bob.Api.ShowWorkspaceAsync(ws, default)).StateHash, "bob catches up");
        Assert.Equal(13, (await bob.Api.EntriesAsync(ws, ToolKind.Chat, default)).Count);
        var back = await bob.Api.CreateEntryAsync(ws, ToolKind.Chat, Text("back"), default);
        await TestPeer.Eventually(async () => (await ann.Api.EntriesAsync(ws, ToolKind.Chat, default)).Any(e => e.Id == back), "bob's new post reaches ann");
    }

    [Fact]
    public async Task Dormant_copy_of_a_removed_member_should_still_erase_itself_when_its_removal_arrives()
    {
        var clock = new ShiftedClock();
        await using var ann = await TestPeer.StartAsync("ann", clock: clock);
        await using var bob = await TestPeer.StartAsync("bob", clock: clock);
        await TestPeer.ConnectAsync(ann, bob);
        var ws = await ann.Api.CreateWorkspaceAsync("Left behind", default);
        var bobInfo = await bob.Api.InfoAsync(default);
        await InviteAndAcceptAsync(ann, bob, bobInfo.Account, ws);
        await TestPeer.Eventually(async () => (await bob.Api.JoinProgressAsync(ws, default)).Complete, "first copy");

        await bob.Host.DisposeAsync();
        await WeeksPassAsync(clock, ann, ws);
        await ann.Api.UninviteAsync(ws, bobInfo.Account, default);

        // Bob's copy is dormant when he returns, yet his removal still reaches it and it erases itself.
        await bob.RestartAsync();
        await TestPeer.ConnectAsync(ann, bob);
        await TestPeer.Eventually(async () => (await bob.Api.WorkspacesAsync(default)).All(w => w.Id != ws), "bob's dormant copy erased");
        await TestPeer.Eventually(async () =>
            (await ann.Api.ShowWorkspaceAsync(ws, default)).Removed.SingleOrDefault(r => r.Account == bobInfo.Account)?.Deleted.Count == 1,
            "ann holds bob's receipt");
    }
}

using ActorSync.EndToEnd.Tests.Support;
using Xunit;

namespace ActorSync.EndToEnd.Tests;

/// <summary>
/// What a user sees when a verb cannot be done: one clear line on stderr, nothing on stdout, and a
/// non-zero exit (3 when no peer runs for the home, as `actorsync help` documents).
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed class CliErrorSpecs
{
    private const int NotRunning = 3;

    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task A_verb_should_say_in_one_line_that_no_peer_is_running_for_its_home()
    {
        await using var cluster = new PeerCluster();

        // A folder that holds nothing at all.
        var empty = Path.Combine(cluster.Root, "nobody");
        AssertNoPeer(await ActorSyncCli.RunAsync(["ws", "list", "--home", empty]), empty);

        // An identity whose peer was never started.
        var ann = await cluster.InitAsync("Ann");
        AssertNoPeer(await ann.RunAsync("ws", "list"), ann.Home);
        AssertNoPeer(await ann.RunAsync("card"), ann.Home);

        // A peer that was killed (its api-address file is left behind, pointing at nothing).
        await ann.StartAsync();
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Garden club");
        await ann.KillAsync();
        Assert.True(File.Exists(ann.ApiAddressPath));
        AssertNoPeer(await ann.RunAsync("ws", "show", ws), ann.Home);
        AssertNoPeer(await ann.RunAsync("discussion", "post", ws, "hello?"), ann.Home);

        // A peer that was stopped cleanly.
        await ann.StartAsync();
        Assert.Contains(ws, (await ann.OkAsync("ws", "list", "--json")).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, await ann.TerminateAsync());
        AssertNoPeer(await ann.RunAsync("chat", "say", ws, "hello?"), ann.Home);
    }

    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task A_bad_workspace_id_and_a_guests_discussion_post_should_be_refused_with_a_clear_error()
    {
        await using var cluster = new PeerCluster();
        var peers = await cluster.StartAsync("Ann", "Cat");
        var (ann, cat) = (peers[0], peers[1]);
        await PeerCluster.ExchangeCardsAsync(ann, cat);
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Garden club");
        var topic = (await ann.OkAsync("discussion", "post", ws, "Who orders the seeds?", "--title", "Seeds")).LastLine;
        await cluster.InviteAndJoinAsync(ann, ws, (cat, "guest"));

        // Not a workspace id at all.
        foreach (var args in new[] { new[] { "ws", "show", "not-a-workspace" }, ["discussion", "post", "not-a-workspace", "hi"], ["chat", "log", "not-a-workspace"] })
        {
            var result = await cat.RunAsync(args);
            AssertOneLineError(result, "not-a-workspace");
        }

        // A well-formed id of a workspace this device does not hold (Ann's private one).
        var other = await PeerCluster.CreateWorkspaceAsync(ann, "Ann's own");
        AssertOneLineError(await cat.RunAsync("ws", "show", other), $"no workspace {other}");
        AssertOneLineError(await cat.RunAsync("discussion", "list", other), $"no workspace {other}");

        // Cat is a guest: she may chat and read, not post to the discussion, reply, or add files.
        await cluster.EventuallyAsync("Cat to see Ann's topic", () => Listings.DiscussionAsync(cat, ws), l => l.Any(e => e.Id == topic), Listings.Describe);
        AssertOneLineError(await cat.RunAsync("discussion", "post", ws, "guests cannot post topics"), "not permitted");
        AssertOneLineError(await cat.RunAsync("discussion", "post", ws, "nor replies", "--reply-to", topic), "not permitted");
        var upload = Path.Combine(cluster.Root, "guest.txt");
        await File.WriteAllTextAsync(upload, "a guest's file\n");
        AssertOneLineError(await cat.RunAsync("files", "put", ws, upload), "not permitted");
        var line = (await cat.OkAsync("chat", "say", ws, "Count me in for Saturday!")).LastLine;

        // The refusals left no trace anywhere: once Ann has Cat's later chat line, both replicas agree and hold no guest post.
        await cluster.EventuallyAsync("Ann to receive Cat's chat line", () => Listings.ChatAsync(ann, ws), l => l.Any(e => e.Id == line), Listings.Describe);
        await cluster.ConvergedAsync(ws, ann, cat);
        foreach (var peer in new[] { ann, cat })
        {
            var entries = await Listings.DiscussionAsync(peer, ws);
            Assert.Equal([topic], entries.Select(e => e.Id));
            Assert.Empty(await Listings.FilesAsync(peer, ws));
        }
    }

    private static void AssertNoPeer(CliResult result, string home)
    {
        Assert.True(result.ExitCode == NotRunning, result.ToString());
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains("no peer is running", line, StringComparison.Ordinal);
        Assert.Contains(home, line, StringComparison.Ordinal);
    }

    private static void AssertOneLineError(CliResult result, string mention)
    {
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains(mention, line, StringComparison.Ordinal);
        Assert.StartsWith("actorsync ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
    }
}

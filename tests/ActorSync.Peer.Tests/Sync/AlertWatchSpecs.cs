using ActorSync.Peer.Actors.Workspaces;
using ActorSync.Peer.Api;
using Xunit;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>
/// Watching alerts: a watch is subscribed once <see cref="IPeerFacade.WatchAsync"/> completes (the
/// API sends the stream's headers only then, and clients count the stream open on them), an unknown
/// workspace is refused before any stream exists, and a watcher that leaves ends its stream.
/// </summary>
public class AlertWatchSpecs
{
    [Fact]
    public async Task An_alert_published_right_after_the_watch_is_subscribed_should_be_in_the_stream()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        for (var round = 0; round < 20; round++)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var stream = await ann.Api.WatchAsync(null, cts.Token);
            // Published at once, from this thread: no chance for a subscription made later to catch it.
            ann.Host.System.EventStream.Publish(new WorkspaceProtocol.Alert(DateTimeOffset.UtcNow, "test", null, $"round {round}"));
            await using var alerts = stream.GetAsyncEnumerator(cts.Token);
            Assert.True(await alerts.MoveNextAsync());
            Assert.Equal($"round {round}", alerts.Current.Text);
            await cts.CancelAsync();
        }
    }

    [Fact]
    public async Task An_unknown_workspace_should_be_refused_and_a_cancelled_watch_should_end()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        var unknown = Core.Identity.WorkspaceId.New().ToString();
        var refused = await Assert.ThrowsAsync<PeerRequestException>(() => ann.Api.WatchAsync(unknown, default));
        Assert.Equal(404, refused.Status);
        Assert.Equal(400, (await Assert.ThrowsAsync<PeerRequestException>(() => ann.Api.WatchAsync("not-an-id", default))).Status);

        using var cts = new CancellationTokenSource();
        var stream = await ann.Api.WatchAsync(null, cts.Token);
        await using var alerts = stream.GetAsyncEnumerator(cts.Token);
        var next = alerts.MoveNextAsync().AsTask();
        await cts.CancelAsync();
        // Ends (cancelled, or completed by the stopped bridge) instead of waiting forever.
        var ended = await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.Same(next, ended);
        // Cancelled, or completed with no more alerts.
        var more = next.IsCompletedSuccessfully && await next;
        Assert.False(more);
    }
}

using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests;

public class ReplicaSmokeSpecs
{
    [Fact]
    public void Three_members_should_converge_after_concurrent_posts()
    {
        using var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant), ("cat", Role.Guest));
        var discussion = new ToolId("discussion");
        Assert.True(ws["ann"].Author(discussion, new CreateEntry(EntryFields.Of(("text", "hello"))), ws.Tick()).Ok);
        Assert.True(ws["bob"].Author(discussion, new CreateEntry(EntryFields.Of(("text", "hi"))), ws.Tick()).Ok);
        var guest = ws["cat"].Author(discussion, new CreateEntry(EntryFields.Of(("text", "nope"))), ws.Tick());
        Assert.False(guest.Ok);
        ws.SyncAll();
        var hashes = ws.Replicas.Values.Select(r => r.State.StateHash()).Distinct().ToList();
        Assert.Single(hashes);
        Assert.Equal(2, ws["cat"].State.EntriesOf(discussion)!.Live.Count());
    }
}

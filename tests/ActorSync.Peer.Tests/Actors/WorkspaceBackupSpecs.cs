using Akka.Actor;
using Akka.TestKit;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Actors.Workspaces;
using ActorSync.Peer.Api;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceBackupProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// Export and import through real workspace managers on SQLite: the import rebuilds the same state
/// (and recovers it after a restart), a tampered export is refused leaving nothing behind, and a
/// workspace the device holds is refused with 409.
/// </summary>
public sealed class WorkspaceBackupSpecs : PeerActorSpec
{
    private readonly TestProbe _links;

    public WorkspaceBackupSpecs(ITestOutputHelper output) : base(PeerFiles.Create("ann"), "backup-specs", output)
    {
        _links = CreateTestProbe("links");
        _links.IgnoreMessages(m => m is GetLinks or Track);
    }

    private static T Ask<T>(ActorSystem system, IActorRef actor, object message)
    {
        var probe = new TestProbe(system, new Akka.TestKit.Xunit2.XunitAssertions());
        actor.Tell(message, probe.Ref);
        return probe.ExpectMsg<T>(Patience);
    }

    private static IActorRef StartManager(ActorSystem system, PeerFiles files) =>
        system.ActorOf(WorkspaceManager.Props(files.NewContext(), system.DeadLetters), "workspaces");

    private static ImportWorkspace ImportOf(WorkspaceExport export) =>
        new(export.Workspace, export.Keyring, export.Deltas.Select(d => d.Bytes).ToList());

    /// <summary>A workspace with entries in two tools and a two-chunk file, exported.</summary>
    private (WorkspaceExport Export, string Hash) Exported()
    {
        var manager = Sys.ActorOf(WorkspaceManager.Props(Files.NewContext(), _links.Ref), "workspaces");
        var id = Ask<Created>(Sys, manager, new WorkspaceProtocol.CreateWorkspace("Garden")).Workspace;
        for (var i = 0; i < 5; i++)
            Ask<Authored>(Sys, manager, new ToWorkspace(id, new AuthorIn(ToolKind.Discussion, new CreateEntry(EntryFields.Of(("text", $"post {i}"))))));
        Ask<Authored>(Sys, manager, new ToWorkspace(id, new AuthorIn(ToolKind.Notepad, new CreateEntry(EntryFields.Of(("title", "plan"), ("text", "dig"))))));
        Ask<Authored>(Sys, manager, new ToWorkspace(id, new PutFileContent("plan.txt", new byte[StoreChunk.MaxSize + 100])));
        var hash = Ask<WorkspaceDetails>(Sys, manager, new ToWorkspace(id, new GetDetails())).StateHash;
        return (Ask<WorkspaceExport>(Sys, manager, new ToWorkspace(id, new ExportWorkspace())), hash);
    }

    [Fact]
    public async Task Import_should_rebuild_the_same_state_refuse_tampering_and_duplicates_and_survive_a_restart()
    {
        var (export, hash) = Exported();
        var id = export.Workspace;
        Assert.Equal(10, export.Deltas.Count()); // genesis, 6 entries, 2 chunks, the file version
        using var dan = PeerFiles.Create("dan");
        var target = ActorSystem.Create("target", dan.Config);
        try
        {
            var manager = StartManager(target, dan);
            // A changed byte in one delta (its signature or ciphertext): refused, nothing kept.
            var tampered = ImportOf(export);
            var bytes = (byte[])tampered.Deltas[3].Clone();
            bytes[^5] ^= 0x01;
            tampered = tampered with { Deltas = [.. tampered.Deltas.Take(3), bytes, .. tampered.Deltas.Skip(4)] };
            var refused = Ask<Refused>(target, manager, tampered);
            Assert.Equal(400, refused.Status);
            Assert.StartsWith("the export does not verify: delta ", refused.Reason);
            Assert.Equal(404, Ask<Refused>(target, manager, new ToWorkspace(id, new GetSummary())).Status);
            Assert.Empty(Ask<WorkspaceList>(target, manager, new ListWorkspaces()).Workspaces);
            // A dropped delta, or a keyring that is not this workspace's: refused too.
            Assert.Equal(400, Ask<Refused>(target, manager, ImportOf(export) with { Deltas = [.. ImportOf(export).Deltas.Skip(1)] }).Status);
            using (var other = new Core.Crypto.EpochKeyring(id))
                Assert.Equal(400, Ask<Refused>(target, manager, ImportOf(export) with { Keyring = other.Export() }).Status);

            // The genuine export, after those refusals: the same state.
            Assert.Equal(id, Ask<Created>(target, manager, ImportOf(export)).Workspace);
            var details = Ask<WorkspaceDetails>(target, manager, new ToWorkspace(id, new GetDetails()));
            Assert.Equal((hash, 10L, "Garden"), (details.StateHash, details.Deltas, details.Name));
            Assert.Equal(new byte[StoreChunk.MaxSize + 100], Ask<FileContent>(target, manager, new ToWorkspace(id, new GetFileContent("plan.txt"))).Content);
            Assert.Equal(409, Ask<Refused>(target, manager, ImportOf(export)).Status);
        }
        finally
        {
            await target.Terminate().WaitAsync(Patience);
        }

        // A new process on the same files recovers it from the journal alone.
        var again = ActorSystem.Create("target-again", dan.Config);
        try
        {
            var manager = StartManager(again, dan);
            var details = Ask<WorkspaceDetails>(again, manager, new ToWorkspace(id, new GetDetails()));
            Assert.Equal((hash, 10L), (details.StateHash, details.Deltas));
            Assert.Equal(409, Ask<Refused>(again, manager, ImportOf(export)).Status);
        }
        finally
        {
            await again.Terminate().WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task A_pruned_workspace_should_export_its_image_and_the_log_left_and_import_to_the_same_state()
    {
        // A workspace with no other member: everything prunable leaves the log at the first tick.
        var context = Files.NewContext();
        context = context with { Settings = context.Settings with { PruneAfter = 3, AntiEntropyInterval = TimeSpan.FromMilliseconds(100) } };
        var manager = Sys.ActorOf(WorkspaceManager.Props(context, _links.Ref), "workspaces");
        var id = Ask<Created>(Sys, manager, new WorkspaceProtocol.CreateWorkspace("Garden")).Workspace;
        for (var i = 0; i < 6; i++)
            Ask<Authored>(Sys, manager, new ToWorkspace(id, new AuthorIn(ToolKind.Discussion, new CreateEntry(EntryFields.Of(("text", $"post {i}"))))));
        Ask<Authored>(Sys, manager, new ToWorkspace(id, new PutFileContent("plan.txt", new byte[StoreChunk.MaxSize + 100])));
        // Pruned at a tick once three are held by all (a tick may fall between the posts and the file).
        await AwaitAssertAsync(() => Assert.True(Ask<WorkspaceDetails>(Sys, manager, new ToWorkspace(id, new GetDetails())).Retention!.Pruned >= 3),
            Patience, TimeSpan.FromMilliseconds(50));
        var before = Ask<WorkspaceDetails>(Sys, manager, new ToWorkspace(id, new GetDetails()));
        var export = Ask<WorkspaceExport>(Sys, manager, new ToWorkspace(id, new ExportWorkspace()));
        var hash = before.StateHash;
        Assert.NotNull(export.Image);
        // The log left, at least genesis and the file's two chunks (administrative deltas and content are never pruned).
        Assert.Equal(before.Retention!.Logged, export.Deltas.Count());
        Assert.InRange(export.Deltas.Count(), 3, 7);

        using var dan = PeerFiles.Create("dan");
        var target = ActorSystem.Create("target", dan.Config);
        var import = ImportOf(export) with { Image = export.Image };
        try
        {
            var imported = StartManager(target, dan);
            // Without one delta of the log left: refused (the image names it).
            Assert.Equal(400, Ask<Refused>(target, imported, import with { Deltas = [.. import.Deltas.Skip(1)] }).Status);
            Assert.Equal(id, Ask<Created>(target, imported, import).Workspace);
            var details = Ask<WorkspaceDetails>(target, imported, new ToWorkspace(id, new GetDetails()));
            Assert.Equal((hash, 10L), (details.StateHash, details.Deltas));
            Assert.Equal(new byte[StoreChunk.MaxSize + 100], Ask<FileContent>(target, imported, new ToWorkspace(id, new GetFileContent("plan.txt"))).Content);
        }
        finally
        {
            await target.Terminate().WaitAsync(Patience);
        }

        // The imported state is in a snapshot: a new process recovers it.
        var again = ActorSystem.Create("target-again", dan.Config);
        try
        {
            var imported = StartManager(again, dan);
            Assert.Equal(hash, Ask<WorkspaceDetails>(again, imported, new ToWorkspace(id, new GetDetails())).StateHash);
            Assert.Equal(new byte[StoreChunk.MaxSize + 100], Ask<FileContent>(again, imported, new ToWorkspace(id, new GetFileContent("plan.txt"))).Content);
        }
        finally
        {
            await again.Terminate().WaitAsync(Patience);
        }
    }
}

using Akka.Actor;
using Akka.TestKit;
using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Peer.Actors.Workspaces;
using ActorSync.Peer.Api;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// /workspaces: creates and joins workspaces, routes requests and frames to the right child,
/// refuses what it cannot route, and remembers its workspaces across a restart (real SQLite files).
/// </summary>
public sealed class WorkspaceManagerSpecs : PeerActorSpec
{
    private readonly TestProbe _links;
    private readonly RemoteMember _bob = new("bob");

    public WorkspaceManagerSpecs(ITestOutputHelper output) : base(PeerFiles.Create("ann"), "manager-specs", output)
    {
        _links = CreateTestProbe("links");
        // Workspaces started by the manager ask which links are up (none are, here) and to track member devices.
        _links.IgnoreMessages(m => m is GetLinks or Track);
    }

    private IActorRef StartManager() => Sys.ActorOf(WorkspaceManager.Props(Files.NewContext(), _links.Ref), "workspaces");

    private T Ask<T>(IActorRef actor, object message)
    {
        var probe = CreateTestProbe();
        actor.Tell(message, probe.Ref);
        return probe.ExpectMsg<T>(Patience);
    }

    private WorkspaceId CreateWorkspace(IActorRef manager, string name) => Ask<Created>(manager, new CreateWorkspace(name)).Workspace;

    [Fact]
    public void WorkspaceManager_should_route_requests_to_the_workspace_they_name()
    {
        var manager = StartManager();
        var alpha = CreateWorkspace(manager, "Alpha");
        var beta = CreateWorkspace(manager, "Beta");
        Assert.NotEqual(alpha, beta);

        Assert.Equal("Alpha", Ask<WorkspaceSummary>(manager, new ToWorkspace(alpha, new GetSummary())).Name);
        Assert.Equal("Beta", Ask<WorkspaceSummary>(manager, new ToWorkspace(beta, new GetSummary())).Name);
        var details = Ask<WorkspaceDetails>(manager, new ToWorkspace(beta, new GetDetails()));
        Assert.Equal(beta.ToString(), details.Id);
        Assert.Equal("manager", details.Role);

        var list = Ask<WorkspaceList>(manager, new ListWorkspaces()).Workspaces;
        Assert.Equal(["Alpha", "Beta"], list.Select(w => w.Name).Order());
    }

    [Fact]
    public void WorkspaceManager_should_answer_404_for_a_workspace_it_does_not_hold()
    {
        var manager = StartManager();
        CreateWorkspace(manager, "Only one");
        var refused = Ask<Refused>(manager, new ToWorkspace(WorkspaceId.New(), new GetSummary()));
        Assert.Equal(404, refused.Status);
        Assert.Contains("no workspace", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkspaceManager_should_refuse_a_malformed_invitation_and_hold_nothing_new()
    {
        var manager = StartManager();
        var kept = CreateWorkspace(manager, "Kept");
        _bob.Create("Bob's");
        var genuine = _bob.Invite(Files.Home.Card);
        var flipped = (byte[])genuine.Clone();
        flipped[^5] ^= 0x40; // inside the signature
        var truncated = genuine[..(genuine.Length / 2)];

        foreach (var bad in new[] { [], [1], new byte[300], truncated, flipped, [.. genuine, 0] })
        {
            var refused = Ask<Refused>(manager, new JoinWorkspace(bad));
            Assert.Equal(400, refused.Status);
            Assert.Contains("not a valid invitation", refused.Reason, StringComparison.Ordinal);
        }
        Assert.Equal([kept.ToString()], Ask<WorkspaceList>(manager, new ListWorkspaces()).Workspaces.Select(w => w.Id));
    }

    [Fact]
    public void WorkspaceManager_should_refuse_a_signed_invitation_it_cannot_open_and_stay_free_to_join_later()
    {
        var manager = StartManager();
        var bobs = _bob.Create("Shared");
        using var carol = new RemoteMember("carol");
        // Well signed, but addressed to another account (its keys wrapped for carol) ...
        var forCarol = _bob.Invite(carol.Card);
        // ... or addressed to this account with a keyring nobody can open (a broken or hostile inviter).
        var genuine = InvitationCodec.Decode(_bob.Invite(Files.Home.Card));
        var unopenable = InvitationCodec.Encode(genuine with { WrappedKeyring = new byte[200] }, _bob.Device);

        foreach (var bad in new[] { forCarol, unopenable })
        {
            var refused = Ask<Refused>(manager, new JoinWorkspace(bad));
            Assert.Equal(400, refused.Status);
        }
        Assert.Empty(Ask<WorkspaceList>(manager, new ListWorkspaces()).Workspaces);

        // The refusals reserved nothing: the genuine invitation to the same workspace still works.
        Assert.Equal(bobs.Id, Ask<Created>(manager, new JoinWorkspace(InvitationCodec.Encode(genuine, _bob.Device))).Workspace);
    }

    [Fact]
    public void WorkspaceManager_should_refuse_to_join_a_workspace_it_holds_already()
    {
        var manager = StartManager();
        _bob.Create("Shared");
        var invitation = _bob.Invite(Files.Home.Card);
        Assert.IsType<Created>(Ask<object>(manager, new JoinWorkspace(invitation)));
        Assert.Equal(409, Ask<Refused>(manager, new JoinWorkspace(invitation)).Status);
    }

    [Fact]
    public void WorkspaceManager_should_join_by_invitation_ask_the_inviter_for_the_first_copy_and_route_its_frames()
    {
        var manager = StartManager();
        var bobs = _bob.Create("Bob's garden");
        _bob.Post(ToolKind.Discussion, ("text", "welcome"));
        var invitation = _bob.Invite(Files.Home.Card, Role.Participant);
        var id = bobs.Id;

        Assert.Equal(id, Ask<Created>(manager, new JoinWorkspace(invitation)).Workspace);
        // The new workspace asks every device of the inviter for what it lacks (everything).
        var ask = _links.ExpectMsg<SendFrame>(Patience);
        Assert.Equal(_bob.Id, ask.Device);
        Assert.Equal(id, ask.Frame.Summary.Workspace.ToWorkspaceId());
        Assert.Equal(VersionVector.Empty, ask.Frame.Summary.Seen.ToVersionVector());
        Assert.False(Ask<JoinProgress>(manager, new ToWorkspace(id, new GetJoinProgress())).Complete);

        // Bob's batch, routed by the workspace id in the frame, makes the copy complete and is acked.
        manager.Tell(new InboundFrame(_bob.Id, RemoteMember.BatchOf(id, bobs.Log.Select(d => d.Bytes))));
        var ack = _links.ExpectMsg<SendFrame>(Patience);
        Assert.Equal((_bob.Id, LinkFrame.BodyOneofCase.Ack), (ack.Device, ack.Frame.BodyCase));
        Assert.Equal(bobs.Seen, ack.Frame.Ack.Applied.ToVersionVector());
        Assert.True(Ask<JoinProgress>(manager, new ToWorkspace(id, new GetJoinProgress())).Complete);
        Assert.Equal(bobs.State.StateHash(), Ask<WorkspaceDetails>(manager, new ToWorkspace(id, new GetDetails())).StateHash);
    }

    [Fact]
    public void WorkspaceManager_should_drop_frames_for_unknown_or_malformed_workspace_ids_and_keep_routing()
    {
        var manager = StartManager();
        _bob.Create("Shared");
        var invitation = _bob.Invite(Files.Home.Card);
        var id = Ask<Created>(manager, new JoinWorkspace(invitation)).Workspace;
        _links.ExpectMsg<SendFrame>(Patience); // the first-copy summary

        manager.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(WorkspaceId.New(), VersionVector.Empty)));
        manager.Tell(new InboundFrame(_bob.Id, new LinkFrame { Summary = new Summary { Workspace = ByteString.CopyFrom(new byte[15]) } }));
        manager.Tell(new InboundFrame(_bob.Id, new LinkFrame { Deltas = new DeltaBatch { Workspace = ByteString.Empty } }));
        manager.Tell(new InboundFrame(_bob.Id, new LinkFrame { Ack = new Ack { Workspace = ByteString.CopyFrom(new byte[4096]) } }));
        manager.Tell(new InboundFrame(_bob.Id, new LinkFrame { Ping = new Ping { Nonce = 1 } }));
        manager.Tell(new InboundFrame(_bob.Id, new LinkFrame()));

        // Barrier: a frame for the real workspace is answered, and it is the first frame out.
        manager.Tell(new InboundFrame(_bob.Id, RemoteMember.BatchOf(id, [])));
        var ack = _links.ExpectMsg<SendFrame>(Patience);
        Assert.Equal((_bob.Id, LinkFrame.BodyOneofCase.Ack), (ack.Device, ack.Frame.BodyCase));
        Assert.Equal(id, ack.Frame.Ack.Workspace.ToWorkspaceId());
    }

    [Fact]
    public void WorkspaceManager_should_remember_its_workspaces_across_a_restart()
    {
        var manager = StartManager();
        var alpha = CreateWorkspace(manager, "Alpha");
        _bob.Create("Joined");
        var invitation = _bob.Invite(Files.Home.Card);
        var joined = Ask<Created>(manager, new JoinWorkspace(invitation)).Workspace;
        var hash = Ask<WorkspaceDetails>(manager, new ToWorkspace(alpha, new GetDetails())).StateHash;
        Watch(manager);
        Sys.Stop(manager);
        ExpectTerminated(manager, Patience);

        var again = StartManager();
        Assert.Equal(new[] { alpha.ToString(), joined.ToString() }.Order(),
            Ask<WorkspaceList>(again, new ListWorkspaces()).Workspaces.Select(w => w.Id).Order());
        Assert.Equal(hash, Ask<WorkspaceDetails>(again, new ToWorkspace(alpha, new GetDetails())).StateHash);
        Assert.Equal(409, Ask<Refused>(again, new JoinWorkspace(invitation)).Status);
        Assert.Equal(404, Ask<Refused>(again, new ToWorkspace(WorkspaceId.New(), new GetSummary())).Status);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _bob.Dispose();
    }
}

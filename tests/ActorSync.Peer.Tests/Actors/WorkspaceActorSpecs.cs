using Akka.Actor;
using Akka.TestKit;
using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Actors;
using ActorSync.Peer.Actors.Workspaces;
using ActorSync.Peer.Api;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// One <see cref="WorkspaceActor"/> on a real SQLite journal, with a probe as the link manager: what
/// it persists survives a stop and a whole new ActorSystem, and what it sends to member devices
/// (summaries, batches, acks) follows what they say, frame by frame.
/// </summary>
public sealed class WorkspaceActorSpecs : PeerActorSpec
{
    private readonly TestProbe _links;
    private readonly RemoteMember _bob = new("bob");
    private readonly RemoteMember _carol = new("carol");

    public WorkspaceActorSpecs(ITestOutputHelper output) : base(PeerFiles.Create("ann"), "workspace-specs", output)
    {
        _links = CreateTestProbe("links");
        // Requests to keep a route to member devices; the spec below checks them on a probe of its own.
        _links.IgnoreMessages(m => m is Track);
    }

    private static readonly ToolId Discussion = new("discussion");
    private static readonly ToolId Notepad = new("notepad");
    private static readonly ToolId Chat = new("chat");

    private static Author Post(ToolId tool, params (string, string)[] fields) => new(tool, new CreateEntry(EntryFields.Of(fields)));

    private IActorRef Start(ActorSystem system, WorkspaceId id, PeerContext peer, IActorRef links) =>
        system.ActorOf(WorkspaceActor.Props(id, peer, links), id.ToString());

    private (IActorRef Actor, WorkspaceId Id) Create(string name, PeerContext? peer = null)
    {
        var id = WorkspaceId.New();
        var ws = Start(Sys, id, peer ?? Files.NewContext(), _links.Ref);
        ws.Tell(new Initialize(name, null), TestActor);
        Assert.Equal(id, ExpectMsg<Created>(Patience).Workspace);
        return (ws, id);
    }

    private T Ask<T>(IActorRef actor, object message, TestProbe? probe = null)
    {
        probe ??= CreateTestProbe();
        actor.Tell(message, probe.Ref);
        return probe.ExpectMsg<T>(Patience);
    }

    private DeltaId Author(IActorRef ws, Author command) => Ask<Authored>(ws, command).Id;

    private SendFrame NextFrame(LinkFrame.BodyOneofCase kind, DeviceId to)
    {
        // A workspace that learns of a new member asks which links are up (GetLinks): not a frame, skipped here.
        var next = _links.FishForMessage(m => m is not GetLinks, Patience);
        var send = Assert.IsType<SendFrame>(next);
        Assert.Equal(to, send.Device);
        Assert.Equal(kind, send.Frame.BodyCase);
        return send;
    }

    /// <summary>Creates a workspace with entries, invites bob, and returns the invitation bytes it sent him.</summary>
    private (IActorRef Actor, WorkspaceId Id, byte[] Invitation) CreateAndInviteBob()
    {
        var (ws, id) = Create("Garden");
        Author(ws, Post(Discussion, ("text", "first")));
        Author(ws, Post(Notepad, ("title", "plan")));
        Ask<Authored>(ws, new Invite(_bob.Card, Role.Participant));
        var invitation = NextFrame(LinkFrame.BodyOneofCase.Invitation, _bob.Id).Frame.Invitation.Invitation.ToByteArray();
        // A new member: the workspace asks which links are up (bob's device may be linked already).
        _links.ExpectMsg<GetLinks>(Patience);
        // After an invite the epoch key must reach the new member: the next command rotates it first.
        Author(ws, Post(Chat, ("text", "welcome bob")));
        return (ws, id, invitation);
    }

    // ---- stop and recover --------------------------------------------------------------------

    [Fact]
    public async Task WorkspaceActor_should_recover_the_same_state_in_a_new_ActorSystem_on_the_same_SQLite_files()
    {
        var id = WorkspaceId.New();
        string hash;
        long deltas;
        IReadOnlyList<EntryView> discussion, notepad;
        DeltaId last;
        var content = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("tulips and roses ", 5000)));

        var first = ActorSystem.Create("first-run", Files.Config);
        try
        {
            var probe = CreateTestProbe(first);
            var links = CreateTestProbe(first);
            var ws = Start(first, id, Files.NewContext(), links.Ref);
            ws.Tell(new Initialize("Recover me", null), probe.Ref);
            probe.ExpectMsg<Created>(Patience);
            for (var i = 0; i < 5; i++)
            {
                ws.Tell(Post(Discussion, ("text", $"entry {i}"), ("title", $"title {i}")), probe.Ref);
                probe.ExpectMsg<Authored>(Patience);
            }
            ws.Tell(Post(Notepad, ("title", "notes"), ("text", "ünïcode €")), probe.Ref);
            probe.ExpectMsg<Authored>(Patience);
            ws.Tell(new PutFileContent("docs/plan.txt", content), probe.Ref);
            last = probe.ExpectMsg<Authored>(Patience).Id;
            ws.Tell(new GetDetails(), probe.Ref);
            var details = probe.ExpectMsg<WorkspaceDetails>(Patience);
            (hash, deltas) = (details.StateHash, details.Deltas);
            ws.Tell(new GetEntries(ToolKind.Discussion), probe.Ref);
            discussion = probe.ExpectMsg<IReadOnlyList<EntryView>>(Patience);
            ws.Tell(new GetEntries(ToolKind.Notepad), probe.Ref);
            notepad = probe.ExpectMsg<IReadOnlyList<EntryView>>(Patience);
        }
        finally
        {
            await first.Terminate().WaitAsync(Patience);
        }
        Assert.Equal(5, discussion.Count);

        // A new process: new ActorSystem, new context (nothing known but what the journal says).
        var peer = Files.NewContext();
        var recovered = Start(Sys, id, peer, _links.Ref);
        var after = Ask<WorkspaceDetails>(recovered, new GetDetails());
        Assert.Equal(hash, after.StateHash);
        Assert.Equal(deltas, after.Deltas);
        Assert.Equal("Recover me", after.Name);
        Assert.Equal(0, after.Buffered + after.Parked + after.Rejected);
        Assert.Equal(discussion, Ask<IReadOnlyList<EntryView>>(recovered, new GetEntries(ToolKind.Discussion)), new EntryViewComparer());
        Assert.Equal(notepad, Ask<IReadOnlyList<EntryView>>(recovered, new GetEntries(ToolKind.Notepad)), new EntryViewComparer());
        Assert.Equal(content, Ask<FileContent>(recovered, new GetFileContent("docs/plan.txt")).Content);
        // Once recovered it asks the link manager which links came up before it existed.
        _links.ExpectMsg<GetLinks>(Patience);

        // It authors on from where it was: the next sequence number, never one already used.
        var next = Author(recovered, Post(Discussion, ("text", "after the restart")));
        Assert.Equal(new DeltaId(peer.Device.Id, last.Seq + 1), next);
        Assert.Equal(6, Ask<IReadOnlyList<EntryView>>(recovered, new GetEntries(ToolKind.Discussion)).Count);
    }

    [Fact]
    public void WorkspaceActor_should_recover_members_and_their_keys_after_a_stop_and_sync_with_links_already_up()
    {
        var (ws, id, _) = CreateAndInviteBob();
        var before = Ask<WorkspaceDetails>(ws, new GetDetails());
        Watch(ws);
        Sys.Stop(ws);
        ExpectTerminated(ws, Patience);

        var peer = Files.NewContext();
        Assert.Null(peer.Known.Find(_bob.Id));
        var recovered = Start(Sys, id, peer, _links.Ref);
        _links.ExpectMsg<GetLinks>(Patience);
        var after = Ask<WorkspaceDetails>(recovered, new GetDetails());
        Assert.Equal(before.StateHash, after.StateHash);
        Assert.Equal(before.Members.Select(m => (m.Account, m.Role)), after.Members.Select(m => (m.Account, m.Role)));
        // Co-members' keys and TLS pins are learned again, so their links are accepted after a restart.
        Assert.NotNull(peer.Known.Find(_bob.Id));
        Assert.Equal(_bob.Tls.Pin, peer.Known.Pins.PinForDevice(_bob.Id));

        // The link manager answers that bob's link is up: a summary goes to him, and (never heard from) his invitation again.
        _links.Reply(new LinkList(new Dictionary<DeviceId, string> { [_bob.Id] = "direct" }));
        var summary = NextFrame(LinkFrame.BodyOneofCase.Summary, _bob.Id).Frame.Summary;
        Assert.Equal(id, summary.Workspace.ToWorkspaceId());
        Assert.Equal(after.Deltas, summary.Seen.ToVersionVector().Entries.Sum(e => (long)e.Seq));
        var again = NextFrame(LinkFrame.BodyOneofCase.Invitation, _bob.Id).Frame.Invitation.Invitation.ToByteArray();

        // The re-sent invitation still lets bob in, and what the recovered actor sends him converges.
        _bob.Join(again);
        Assert.Equal(id, _bob.Replica!.Id);
        recovered.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        _bob.Receive(NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas);
        Assert.Equal(after.StateHash, _bob.Replica.State.StateHash());
    }

    [Fact]
    public void WorkspaceActor_should_author_a_batch_of_entries_as_one_command_and_stop_at_a_refused_one()
    {
        var (ws, _) = Create("Bulk");
        var before = Ask<WorkspaceDetails>(ws, new GetDetails()).Deltas;
        var ops = Enumerable.Range(0, 100).Select(i => (DeltaOp)new CreateEntry(EntryFields.Of(("text", $"bulk {i}")))).ToList();
        var ids = Ask<AuthoredMany>(ws, new AuthorManyIn(ToolKind.Chat, ops)).Ids;
        Assert.Equal(100, ids.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 100).Select(i => ids[0].Seq + (ulong)i), ids.Select(id => id.Seq));
        var chat = Ask<IReadOnlyList<EntryView>>(ws, new GetEntries(ToolKind.Chat));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"bulk {i}").Order(), chat.Select(e => e.Fields["text"]).Order());
        Assert.Equal(before + 100, Ask<WorkspaceDetails>(ws, new GetDetails()).Deltas);

        // A discussion reply to an entry that does not exist is refused: the batch stops there, the first entry stays.
        var bad = new List<DeltaOp>
        {
            new CreateEntry(EntryFields.Of(("text", "kept"))),
            new CreateEntry(EntryFields.Of(("text", "orphan"), ("replyTo", new DeltaId(_bob.Id, 99).ToString()))),
            new CreateEntry(EntryFields.Of(("text", "never authored"))),
        };
        var refused = Ask<Refused>(ws, new AuthorManyIn(ToolKind.Discussion, bad));
        Assert.StartsWith("entry 2 of 3:", refused.Reason, StringComparison.Ordinal);
        var discussion = Ask<IReadOnlyList<EntryView>>(ws, new GetEntries(ToolKind.Discussion)).Select(e => e.Fields["text"]).ToList();
        Assert.Contains("kept", discussion);
        Assert.DoesNotContain("never authored", discussion);

        Assert.Equal(404, Ask<Refused>(ws, new AuthorManyIn((ToolKind)99, ops)).Status);
    }

    [Fact]
    public void WorkspaceActor_should_answer_a_flush_only_after_every_write_started_before_it()
    {
        var (ws, _) = Create("Flush");
        var probe = CreateTestProbe();
        for (var i = 0; i < 20; i++) ws.Tell(Post(Chat, ("text", $"message {i}")), probe.Ref);
        ws.Tell(WorkspaceProtocol.Flush.Instance, probe.Ref);
        // Every command is answered once durable; the flush comes after all of them.
        for (var i = 0; i < 20; i++) probe.ExpectMsg<Authored>(Patience);
        probe.ExpectMsg<WorkspaceProtocol.Flushed>(Patience);
    }

    // ---- frames to and from member devices ---------------------------------------------------

    [Fact]
    public void WorkspaceActor_should_send_a_summary_to_a_member_device_whose_link_comes_up()
    {
        var (ws, id, _) = CreateAndInviteBob();
        var details = Ask<WorkspaceDetails>(ws, new GetDetails());

        Sys.EventStream.Publish(new LinkStateChanged(_bob.Id, true, "direct"));
        var summary = NextFrame(LinkFrame.BodyOneofCase.Summary, _bob.Id).Frame.Summary;
        Assert.Equal(id, summary.Workspace.ToWorkspaceId());
        var seen = summary.Seen.ToVersionVector();
        Assert.Equal(details.Deltas, seen.Entries.Sum(e => (long)e.Seq));
        Assert.Equal([Files.Home.Device.Id], seen.Entries.Select(e => e.Device));
        // Bob never answered: his invitation goes along once more.
        NextFrame(LinkFrame.BodyOneofCase.Invitation, _bob.Id);

        // A device that is not a member gets nothing; the next frame out is bob's again.
        Sys.EventStream.Publish(new LinkStateChanged(_carol.Id, true, "direct"));
        Sys.EventStream.Publish(new LinkStateChanged(_bob.Id, true, "direct"));
        NextFrame(LinkFrame.BodyOneofCase.Summary, _bob.Id);
    }

    [Fact]
    public void WorkspaceActor_should_ask_the_link_manager_to_keep_a_route_to_every_member_device()
    {
        var links = CreateTestProbe();
        var id = WorkspaceId.New();
        var ws = Start(Sys, id, Files.NewContext(), links.Ref);
        ws.Tell(new Initialize("Routes", null), TestActor);
        ExpectMsg<Created>(Patience);
        ws.Tell(new Invite(_bob.Card, Role.Guest), TestActor);
        ExpectMsg<Authored>(Patience);
        // Bob becomes a member: the link manager is asked to track his device (never this device's own).
        var seen = new List<object>();
        links.FishForMessage(m =>
        {
            seen.Add(m);
            return seen.OfType<Track>().Any() && seen.OfType<GetLinks>().Any()
                && seen.OfType<SendFrame>().Any(f => f.Frame.BodyCase == LinkFrame.BodyOneofCase.Invitation);
        }, Patience);
        // ...and asked which links are up: Bob's device may have been linked (as a contact) before he was a member.
        Assert.True(seen.IndexOf(seen.OfType<GetLinks>().Last()) > seen.IndexOf(seen.OfType<Track>().First()));
        Assert.Equal([new Track(_bob.Id)], seen.OfType<Track>());
        Assert.Equal(_bob.Id, seen.OfType<SendFrame>().Single(f => f.Frame.BodyCase == LinkFrame.BodyOneofCase.Invitation).Device);
    }

    [Fact]
    public void WorkspaceActor_should_answer_a_summary_with_an_empty_vector_with_every_delta_in_a_batch()
    {
        var (ws, id, invitation) = CreateAndInviteBob();
        var details = Ask<WorkspaceDetails>(ws, new GetDetails());

        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        var batch = NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas;
        Assert.Equal(id, batch.Workspace.ToWorkspaceId());
        Assert.Equal(details.Deltas, batch.Deltas.Count);

        // Everything bob needs to hold the same workspace: his replica converges on the batch alone.
        _bob.Join(invitation);
        Assert.Equal(batch.Deltas.Count, _bob.Receive(batch.Deltas));
        Assert.Equal(details.StateHash, _bob.Replica!.State.StateHash());
        Assert.True(_bob.Replica.IsMember);

        // A summary that already has it all gets nothing more: the next frame is the ack of an empty batch.
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, _bob.Replica.Seen)));
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.BatchOf(id, [])));
        NextFrame(LinkFrame.BodyOneofCase.Ack, _bob.Id);
    }

    [Fact]
    public void WorkspaceActor_should_send_only_what_a_member_lacks()
    {
        var (ws, id, invitation) = CreateAndInviteBob();
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        var all = NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas;
        _bob.Join(invitation);
        _bob.Receive(all.Take(3));

        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, _bob.Replica!.Seen)));
        var rest = NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas;
        Assert.Equal(all.Skip(3), rest);
    }

    [Fact]
    public void WorkspaceActor_should_apply_a_members_batch_and_ack_it_once_durable()
    {
        var (ws, id, invitation) = CreateAndInviteBob();
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        _bob.Join(invitation);
        _bob.Receive(NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas);

        var posted = _bob.Post(ToolKind.Chat, ("text", "hi ann"));
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Batch(id, posted)));
        var ack = NextFrame(LinkFrame.BodyOneofCase.Ack, _bob.Id).Frame.Ack;
        Assert.Equal(id, ack.Workspace.ToWorkspaceId());
        var applied = ack.Applied.ToVersionVector();
        Assert.All(posted, d => Assert.True(applied.Contains(d.Id)));
        Assert.Equal(_bob.Replica!.Seen, applied);

        var details = Ask<WorkspaceDetails>(ws, new GetDetails());
        Assert.Equal(_bob.Replica.State.StateHash(), details.StateHash);
        Assert.Contains(Ask<IReadOnlyList<EntryView>>(ws, new GetEntries(ToolKind.Chat)), e => e.Fields["text"] == "hi ann");

        // The same batch again (delivery is at least once) changes nothing and is acked again.
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Batch(id, posted)));
        Assert.Equal(applied, NextFrame(LinkFrame.BodyOneofCase.Ack, _bob.Id).Frame.Ack.Applied.ToVersionVector());
        Assert.Equal(details.StateHash, Ask<WorkspaceDetails>(ws, new GetDetails()).StateHash);
    }

    [Fact]
    public void WorkspaceActor_should_ignore_frames_from_a_device_that_is_not_a_member()
    {
        var (ws, id, invitation) = CreateAndInviteBob();
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        _bob.Join(invitation);
        _bob.Receive(NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas);
        var before = Ask<WorkspaceDetails>(ws, new GetDetails());

        // Carol is no member: her summary gets no batch, and bob's genuine delta relayed by her is not taken.
        var bobs = _bob.Post(ToolKind.Chat, ("text", "relayed by carol"));
        ws.Tell(new InboundFrame(_carol.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        ws.Tell(new InboundFrame(_carol.Id, RemoteMember.Batch(id, bobs)));
        ws.Tell(new InboundFrame(_carol.Id, new LinkFrame { Ack = new Ack { Workspace = id.ToWire(), Applied = VersionVector.Empty.ToWire() } }));

        // Barrier: bob's empty batch is acked, and that ack is the first frame out since carol spoke.
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.BatchOf(id, [])));
        var ack = NextFrame(LinkFrame.BodyOneofCase.Ack, _bob.Id).Frame.Ack.Applied.ToVersionVector();
        Assert.All(bobs, d => Assert.False(ack.Contains(d.Id)));
        Assert.Equal(before.StateHash, Ask<WorkspaceDetails>(ws, new GetDetails()).StateHash);

        // From bob himself the same deltas are welcome.
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Batch(id, bobs)));
        Assert.All(bobs, d => Assert.True(NextFrame(LinkFrame.BodyOneofCase.Ack, _bob.Id).Frame.Ack.Applied.ToVersionVector().Contains(d.Id)));
    }

    [Fact]
    public void WorkspaceActor_should_take_deltas_a_removed_member_wrote_before_its_removal_and_answer_it_with_a_summary_only()
    {
        // actorsync sim partitions --seed 7: a member removed while cut off held deltas nobody else
        // had (its own, and an invitation of a new member); dropping its frames kept them out for good.
        var (ws, id, invitation) = CreateAndInviteBob();
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        _bob.Join(invitation);
        _bob.Receive(NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas);

        // Bob writes while cut off; ann removes him before that reaches her (the two are concurrent).
        var written = _bob.Post(ToolKind.Chat, ("text", "written before bob heard of his removal"));
        Ask<Authored>(ws, new Uninvite(_bob.Account.Id));

        // His summary is answered with what leads up to his removal (so he learns of it, and nothing
        // ann wrote after it) and with ann's summary, so he knows what to send.
        var after = Ask<Authored>(ws, new AuthorIn(ToolKind.Chat, new CreateEntry(EntryFields.Of(("text", "after"))))).Id;
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, _bob.Replica!.Seen)));
        var toBob = new List<SendFrame>();
        var reply = (SendFrame)_links.FishForMessage(m =>
        {
            if (m is SendFrame f && f.Device == _bob.Id) toBob.Add(f);
            return m is SendFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Summary } s && s.Device == _bob.Id;
        }, Patience);
        Assert.All(written, d => Assert.False(reply.Frame.Summary.Seen.ToVersionVector().Contains(d.Id)));
        var sent = toBob.Where(f => f.Frame.BodyCase == LinkFrame.BodyOneofCase.Deltas)
            .SelectMany(f => f.Frame.Deltas.Deltas).Select(b => Core.Deltas.DeltaCodec.Decode(b.ToByteArray())).ToList();
        Assert.Contains(sent, d => d.Header.Kind == Core.Operations.OpKind.RemoveMember);
        Assert.DoesNotContain(sent, d => d.Id == after);

        // What he sends is verified against its causal past (where he was a member), applied and acked.
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Batch(id, written)));
        var ack = (SendFrame)_links.FishForMessage(m => m is SendFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Ack } f && f.Device == _bob.Id, Patience);
        Assert.All(written, d => Assert.True(ack.Frame.Ack.Applied.ToVersionVector().Contains(d.Id)));
        Assert.Contains(Ask<IReadOnlyList<EntryView>>(ws, new GetEntries(ToolKind.Chat)), e => e.Fields["text"] == "written before bob heard of his removal");
        Assert.DoesNotContain(Ask<WorkspaceDetails>(ws, new GetDetails()).Members, m => m.Account == _bob.Account.Id.ToString());
    }

    [Fact]
    public void WorkspaceActor_should_send_a_member_reachable_only_through_the_relay_a_summary_about_daily()
    {
        // No periodic summaries go over the relay (an offline device's mailbox would fill with them),
        // but two members who reach each other only that way must still hear of each other in a
        // quiet workspace, or each would find the other dormant after dormant-after.
        var clock = new Sync.ShiftedClock();
        var peer = new PeerContext(Files.Home, Files.Settings with { AntiEntropyInterval = TimeSpan.FromMilliseconds(200) },
            new KnownDevices(new ActorSync.Peer.Links.PinDirectory()), clock);
        var (ws, _) = Create("Quiet", peer);
        Ask<Authored>(ws, new Invite(_bob.Card, Role.Participant));
        ws.Tell(new LinkStateChanged(_bob.Id, true, "relay"));
        _links.FishForMessage(m => m is SendFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Summary } f && f.Device == _bob.Id, Patience);

        clock.Offset = Files.Settings.DormantAfter / 21 + TimeSpan.FromHours(1);
        // The spec fails (times out here) when nothing but the link-up summary goes over the relay.
        _links.FishForMessage(m => m is SendFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Summary } f && f.Device == _bob.Id, Patience);
    }

    [Fact]
    public void WorkspaceActor_should_answer_a_summary_that_shows_deltas_it_lacks_with_its_own_once_per_interval()
    {
        // actorsync sim partitions --seed 7: a joiner's one request for its first copy was lost and the
        // inviter's periodic summaries went unanswered (nothing to send back), so it held nothing for good.
        var (ws, id, invitation) = CreateAndInviteBob();
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        _bob.Join(invitation);
        _bob.Receive(NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas);
        var posted = _bob.Post(ToolKind.Chat, ("text", "ann has not seen this"));

        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, _bob.Replica!.Seen)));
        var answer = (SendFrame)_links.FishForMessage(m => m is SendFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Summary } f && f.Device == _bob.Id, Patience);
        Assert.All(posted, d => Assert.False(answer.Frame.Summary.Seen.ToVersionVector().Contains(d.Id)));

        // Within the interval the same summary is not answered again: the next frame out is the ack of a barrier batch.
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, _bob.Replica.Seen)));
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.BatchOf(id, [])));
        Assert.Equal(LinkFrame.BodyOneofCase.Ack, ((SendFrame)_links.FishForMessage(m => m is SendFrame f && f.Device == _bob.Id, Patience)).Frame.BodyCase);
    }

    [Fact]
    public void WorkspaceActor_should_rotate_the_key_at_once_when_a_member_invited_concurrently_with_a_new_epoch_lacks_it() =>
        RotateWhenAMemberLacksTheKey(annFirstInLine: true);

    [Fact]
    public void WorkspaceActor_should_rotate_the_key_after_an_interval_when_the_member_first_in_line_does_not() =>
        RotateWhenAMemberLacksTheKey(annFirstInLine: false);

    /// <summary>
    /// actorsync sim partitions --seed 7: p3, invited by p2 while p0 removed p2, could read nothing of
    /// the new epoch until someone happened to give a command; and when the key holder first in line
    /// was the sim's hostile member, nobody rotated. Here bob (a probe that never rotates) invites dan
    /// while ann removes carol; ann is first or second in line by account id.
    /// </summary>
    private void RotateWhenAMemberLacksTheKey(bool annFirstInLine)
    {
        var ann = Files.Home.Account.Id;
        // Drawn until one falls on the wanted side of ann: a fixed 64 failed whenever ann's random id
        // was below (or above) all of them, about one run in 65 (seen once on a loaded machine).
        using var bob = DrawMember(m => m.Account.Id.CompareTo(ann) > 0 == annFirstInLine);
        using var dan = new RemoteMember("dan");
        var context = Files.NewContext();
        // Second in line waits one anti-entropy interval of the gap still showing (ticks drive it).
        if (!annFirstInLine) context = context with { Settings = context.Settings with { AntiEntropyInterval = TimeSpan.FromMilliseconds(200) } };
        var (ws, _) = InviteWhileRemoving(context, bob, dan);

        // ann sees dan lacking the current key and rotates without waiting for a command: the rotation goes out to bob.
        // (Second in line, ann may also send bob her periodic summary meanwhile: only delta batches are taken here.)
        var rotated = false;
        while (!rotated)
        {
            var batch = ((SendFrame)_links.FishForMessage(m => m is SendFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Deltas } f && f.Device == bob.Id, Patience))
                .Frame.Deltas.Deltas;
            bob.Receive(batch);
            rotated = batch.Any(d => Core.Deltas.DeltaCodec.Decode(d.ToByteArray()).Header.Kind == OpKind.RotateKey);
        }
        Assert.False(bob.Replica!.State.Current.NeedsRekey);
        Assert.Contains(dan.Account.Id, bob.Replica.State.Current.EpochRecipients);
        Assert.Equal(bob.Replica.State.StateHash(), Ask<WorkspaceDetails>(ws, new GetDetails()).StateHash);
    }

    [Fact]
    public void WorkspaceActor_should_journal_the_key_rotation_a_refused_command_authored_first()
    {
        // As above, with ann second in line and an anti-entropy interval longer than the spec: she
        // rotates only when she next authors. That command is refused (no such tool); the rotation
        // authored before it must still reach the journal, or a restart loses it from her sequence.
        var ann = Files.Home.Account.Id;
        using var bob = DrawMember(m => m.Account.Id.CompareTo(ann) < 0);
        using var dan = new RemoteMember("dan");
        var context = Files.NewContext();
        context = context with { Settings = context.Settings with { AntiEntropyInterval = TimeSpan.FromHours(1) } };
        var (ws, id) = InviteWhileRemoving(context, bob, dan);
        var lacking = Ask<WorkspaceDetails>(ws, new GetDetails());

        var refused = Ask<Refused>(ws, new Author(new ToolId("no-such-tool"), new CreateEntry(EntryFields.Of(("text", "lost")))));
        Assert.Contains("no-such-tool", refused.Reason, StringComparison.Ordinal);
        var rotated = Ask<WorkspaceDetails>(ws, new GetDetails());
        Assert.Equal(lacking.Deltas + 1, rotated.Deltas); // the rotation, authored on the refused command's way

        Watch(ws);
        Sys.Stop(ws);
        ExpectTerminated(ws, Patience);
        var peer = Files.NewContext();
        var recovered = Start(Sys, id, peer, _links.Ref);
        var after = Ask<WorkspaceDetails>(recovered, new GetDetails());
        Assert.Equal(rotated.Deltas, after.Deltas);
        Assert.Equal(rotated.StateHash, after.StateHash);
    }

    /// <summary>
    /// ann's workspace with bob a member and carol invited; then bob invites dan in the epoch he
    /// knows while ann removes carol (a new epoch, keyed for ann and bob only), and ann receives
    /// bob's invitation: dan lacks the current key.
    /// </summary>
    private (IActorRef Actor, WorkspaceId Id) InviteWhileRemoving(PeerContext context, RemoteMember bob, RemoteMember dan)
    {
        var (ws, id) = Create("Garden", context);
        Ask<Authored>(ws, new Invite(bob.Card, Role.Participant));
        var invitation = NextFrame(LinkFrame.BodyOneofCase.Invitation, bob.Id).Frame.Invitation.Invitation.ToByteArray();
        Ask<Authored>(ws, new Invite(_carol.Card, Role.Participant));
        ws.Tell(new InboundFrame(bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        bob.Join(invitation);
        bob.Receive(((SendFrame)_links.FishForMessage(m => m is SendFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Deltas } f && f.Device == bob.Id, Patience))
            .Frame.Deltas.Deltas);
        Assert.True(bob.Replica!.IsMember);
        var before = bob.Replica.Seen;
        bob.Invite(dan.Card);
        var invite = bob.Replica.MissingFrom(before).ToList();
        Ask<Authored>(ws, new Uninvite(_carol.Account.Id));
        ws.Tell(new InboundFrame(bob.Id, RemoteMember.Batch(id, invite)));
        return (ws, id);
    }

    /// <summary>A fresh member whose random account satisfies <paramref name="wanted"/> (the others drawn are disposed).</summary>
    private static RemoteMember DrawMember(Func<RemoteMember, bool> wanted)
    {
        for (var i = 0; i < 100_000; i++)
        {
            var member = new RemoteMember("bob" + i);
            if (wanted(member)) return member;
            member.Dispose();
        }
        throw new InvalidOperationException("no random member on the wanted side in 100,000 draws");
    }

    [Fact]
    public void WorkspaceActor_should_drop_malformed_frames_from_a_member_and_keep_working()
    {
        var (ws, id, invitation) = CreateAndInviteBob();
        var before = Ask<WorkspaceDetails>(ws, new GetDetails());
        var twice = new VersionVectorMsg
        {
            Entries = { new VectorEntry { Device = _bob.Id.ToWire(), Seq = 1 }, new VectorEntry { Device = _bob.Id.ToWire(), Seq = 2 } },
        };
        ws.Tell(new InboundFrame(_bob.Id, new LinkFrame { Summary = new Summary { Workspace = id.ToWire(), Seen = twice } }));
        ws.Tell(new InboundFrame(_bob.Id, new LinkFrame { Ack = new Ack { Workspace = id.ToWire(), Applied = twice } }));
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.BatchOf(id, [[], [1, 2, 3], new byte[5000]])));
        // The garbage batch is acked with what is really applied, then the workspace answers as before.
        Assert.Equal(before.Deltas, NextFrame(LinkFrame.BodyOneofCase.Ack, _bob.Id).Frame.Ack.Applied.ToVersionVector().Entries.Sum(e => (long)e.Seq));
        Assert.Equal(before.StateHash, Ask<WorkspaceDetails>(ws, new GetDetails()).StateHash);

        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));
        _bob.Join(invitation);
        _bob.Receive(NextFrame(LinkFrame.BodyOneofCase.Deltas, _bob.Id).Frame.Deltas.Deltas);
        Assert.Equal(before.StateHash, _bob.Replica!.State.StateHash());
    }

    [Fact]
    public void WorkspaceActor_should_refuse_commands_before_it_is_initialised_and_a_second_initialise()
    {
        var id = WorkspaceId.New();
        var ws = Start(Sys, id, Files.NewContext(), _links.Ref);
        Assert.Equal(404, Ask<Refused>(ws, new GetDetails()).Status);
        // Frames for a workspace that does not exist here yet are dropped quietly, not answered.
        ws.Tell(new InboundFrame(_bob.Id, RemoteMember.Summary(id, VersionVector.Empty)));

        ws.Tell(new Initialize("Late", null), TestActor);
        ExpectMsg<Created>(Patience);
        Assert.Equal(400, Ask<Refused>(ws, new Initialize("Again", null)).Status);
        Assert.Equal("Late", Ask<WorkspaceDetails>(ws, new GetDetails()).Name);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        _bob.Dispose();
        _carol.Dispose();
    }

    /// <summary>Entries compared by value (their fields are a dictionary).</summary>
    private sealed class EntryViewComparer : IEqualityComparer<EntryView>
    {
        public bool Equals(EntryView? x, EntryView? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Author == y.Author && x.AuthorName == y.AuthorName && x.Time == y.Time
            && x.Edited == y.Edited && x.Fields.OrderBy(f => f.Key).SequenceEqual(y.Fields.OrderBy(f => f.Key));

        public int GetHashCode(EntryView obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}

using System.Collections.Concurrent;
using Akka.Actor;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;
using ActorSync.Peer.Actors;
using ActorSync.Peer.Actors.Device;
using ActorSync.Peer.Actors.Workspaces;
using ActorSync.Peer.Api;
using ActorSync.Peer.Links;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Peer.Actors.Device.DeviceProtocol;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// /device on a real SQLite journal: contacts and received invitations are checked before they are
/// kept, and what is kept comes back after a restart (with the keys and pins the links need).
/// </summary>
public sealed class DeviceActorSpecs : PeerActorSpec
{
    private readonly RemoteMember _bob = new("bob");
    private readonly RemoteMember _carol = new("carol");

    public DeviceActorSpecs(ITestOutputHelper output) : base(PeerFiles.Create("ann"), "device-specs", output) { }

    private (IActorRef Device, PeerContext Peer, RecordingTransport Transport) StartDevice()
    {
        var peer = Files.NewContext();
        var transport = new RecordingTransport();
        return (Sys.ActorOf(DeviceActor.Props(peer, transport), "device"), peer, transport);
    }

    private void Stop(IActorRef actor)
    {
        Watch(actor);
        Sys.Stop(actor);
        ExpectTerminated(actor, Patience);
    }

    private T Ask<T>(IActorRef actor, object message)
    {
        var probe = CreateTestProbe();
        actor.Tell(message, probe.Ref);
        return probe.ExpectMsg<T>(Patience);
    }

    public static TheoryData<string> BadCards => new()
    {
        "",
        "hello",
        "actorsync-card:",
        "actorsync-card:!!!not base64!!!",
        "actorsync-card:AAAA",
        "actorsync-card:" + new string('A', 20_000),
    };

    [Theory]
    [MemberData(nameof(BadCards))]
    public void DeviceActor_should_refuse_a_contact_card_that_does_not_parse(string card)
    {
        var (device, _, _) = StartDevice();
        var refused = Ask<Refused>(device, new AddContact(card, null));
        Assert.Equal(400, refused.Status);
        Assert.Contains("not a valid contact card", refused.Reason, StringComparison.Ordinal);
        Assert.Empty(Ask<IReadOnlyList<ContactView>>(device, new GetContacts()));
    }

    [Fact]
    public void DeviceActor_should_refuse_a_card_whose_signature_or_length_is_wrong()
    {
        var (device, _, _) = StartDevice();
        var encoded = _bob.Card.Encoded;
        var tampered = (byte[])encoded.Clone();
        tampered[3] ^= 0x01; // inside the name: the account's signature no longer holds
        foreach (var bytes in new[] { tampered, encoded[..^1], [.. encoded, 0] })
        {
            var text = ContactCard.TextPrefix + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.Equal(400, Ask<Refused>(device, new AddContact(text, null)).Status);
        }
        Assert.Equal(_bob.Account.Id.ToString(), Ask<ContactView>(device, new AddContact(_bob.Card.ToText(), null)).Account);
    }

    [Fact]
    public void DeviceActor_should_refuse_this_accounts_own_card()
    {
        var (device, _, _) = StartDevice();
        Assert.Equal(400, Ask<Refused>(device, new AddContact(Files.Home.Card.ToText(), null)).Status);
        Assert.Empty(Ask<IReadOnlyList<ContactView>>(device, new GetContacts()));
    }

    [Theory]
    [InlineData("nohost")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("::1:7000")]
    public void DeviceActor_should_refuse_a_contact_address_that_is_not_host_and_port(string address)
    {
        var (device, _, _) = StartDevice();
        var refused = Ask<Refused>(device, new AddContact(_bob.Card.ToText(), address));
        Assert.Equal(400, refused.Status);
        // Nothing was kept, and the device still answers.
        Assert.Empty(Ask<IReadOnlyList<ContactView>>(device, new GetContacts()));
    }

    [Fact]
    public void DeviceActor_should_keep_a_contact_across_a_restart_and_dial_it_again()
    {
        var (device, _, transport) = StartDevice();
        var view = Ask<ContactView>(device, new AddContact(_bob.Card.ToText(), "127.0.0.1:7001"));
        Assert.Equal((_bob.Account.Id.ToString(), "bob", "127.0.0.1:7001"), (view.Account, view.Name, view.Address));
        Assert.Equal([_bob.Id.ToString()], view.Devices);
        // The address goes to the link manager through presence, and the device is dialed there.
        AwaitCondition(() => transport.Dials.Contains((_bob.Id, "127.0.0.1:7001")), Patience);
        Stop(device);

        var (again, peer, newTransport) = StartDevice();
        var found = Ask<ContactFound>(again, new FindContact(_bob.Account.Id));
        Assert.NotNull(found.Card);
        Assert.Equal(_bob.Card.Encoded, found.Card.Encoded);
        var contacts = Ask<IReadOnlyList<ContactView>>(again, new GetContacts());
        var bob = Assert.Single(contacts);
        Assert.Equal(("bob", "127.0.0.1:7001"), (bob.Name, bob.Address));
        // Keys and pins are known again, so bob's links are accepted and dialed after the restart.
        Assert.NotNull(peer.Known.Find(_bob.Id));
        Assert.Equal(_bob.Tls.Pin, peer.Known.Pins.PinForDevice(_bob.Id));
        AwaitCondition(() => newTransport.Dials.Contains((_bob.Id, "127.0.0.1:7001")), Patience);
        Assert.Null(Ask<ContactFound>(again, new FindContact(_carol.Account.Id)).Card);
    }

    [Fact]
    public void DeviceActor_should_keep_an_invitation_from_its_inviter_across_a_restart_and_accept_it()
    {
        var (device, _, _) = StartDevice();
        var workspace = _bob.Create("Bob's garden");
        var invitation = _bob.Invite(Files.Home.Card, Role.Participant);
        var alerts = CreateTestProbe();
        Sys.EventStream.Subscribe(alerts.Ref, typeof(Alert));

        device.Tell(new InboundFrame(_bob.Id, RemoteMember.InvitationFrame(invitation)));
        var pending = Assert.Single(Ask<IReadOnlyList<InvitationView>>(device, new GetInvitations()));
        Assert.Equal((workspace.Id.ToString(), "Bob's garden", "bob", "participant", "pending"),
            (pending.Workspace, pending.Name, pending.InviterName, pending.Role, pending.Status));
        Assert.Equal("invitation", alerts.ExpectMsg<Alert>(Patience).Kind);
        // The same invitation again is no news.
        device.Tell(new InboundFrame(_bob.Id, RemoteMember.InvitationFrame(invitation)));
        Assert.Single(Ask<IReadOnlyList<InvitationView>>(device, new GetInvitations()));
        Stop(device);

        var (again, peer, _) = StartDevice();
        Assert.Equal("pending", Assert.Single(Ask<IReadOnlyList<InvitationView>>(again, new GetInvitations())).Status);
        Assert.NotNull(peer.Known.Find(_bob.Id)); // the inviter's devices may link in to deliver the first copy

        Assert.Equal(workspace.Id, Ask<Created>(again, new AcceptInvitation(workspace.Id)).Workspace);
        Assert.Equal("accepted", Assert.Single(Ask<IReadOnlyList<InvitationView>>(again, new GetInvitations())).Status);
        Stop(again);
        var (third, _, _) = StartDevice();
        Assert.Equal("accepted", Assert.Single(Ask<IReadOnlyList<InvitationView>>(third, new GetInvitations())).Status);
        Assert.IsType<JoinProgress>(Ask<object>(third, new ToWorkspaces(new ToWorkspace(workspace.Id, new GetJoinProgress()))));
    }

    [Fact]
    public void DeviceActor_should_drop_invitations_that_are_not_for_this_account_or_not_from_their_inviter()
    {
        var (device, _, _) = StartDevice();
        _bob.Create("Bob's");
        var forAnn = _bob.Invite(Files.Home.Card);
        var forCarol = _bob.Invite(_carol.Card);

        device.Tell(new InboundFrame(_carol.Id, RemoteMember.InvitationFrame(forAnn)));   // relayed by someone else
        device.Tell(new InboundFrame(_bob.Id, RemoteMember.InvitationFrame(forCarol)));   // for another account
        device.Tell(new InboundFrame(_bob.Id, RemoteMember.InvitationFrame([1, 2, 3])));  // not an invitation
        device.Tell(new InboundFrame(_bob.Id, RemoteMember.InvitationFrame([])));
        Assert.Empty(Ask<IReadOnlyList<InvitationView>>(device, new GetInvitations()));

        var refused = Ask<Refused>(device, new AcceptInvitation(_bob.Replica!.Id));
        Assert.Equal(404, refused.Status);
    }

    [Fact]
    public void DeviceActor_should_route_workspace_requests_and_link_queries_to_its_children()
    {
        var (device, _, _) = StartDevice();
        var created = Ask<Created>(device, new ToWorkspaces(new CreateWorkspace("Mine")));
        Assert.Equal("Mine", Ask<WorkspaceSummary>(device, new ToWorkspaces(new ToWorkspace(created.Workspace, new GetSummary()))).Name);
        Assert.Equal(404, Ask<Refused>(device, new ToWorkspaces(new ToWorkspace(WorkspaceId.New(), new GetSummary()))).Status);
        Assert.Empty(Ask<LinkList>(device, new GetLinks()).Up);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        _bob.Dispose();
        _carol.Dispose();
    }

    /// <summary>A transport that only notes where it was asked to dial; the dial never completes.</summary>
    private sealed class RecordingTransport : ILinkTransport
    {
        public ConcurrentQueue<(DeviceId Device, string Address)> Dials { get; } = new();

        public string? ListenAddress => null;

        public Task StartAsync(Func<ILinkConnection, Task> onInbound, CancellationToken ct) => Task.CompletedTask;

        public async Task<ILinkConnection> DialAsync(DeviceId device, string address, CancellationToken ct)
        {
            Dials.Enqueue((device, address));
            await Task.Delay(Timeout.Infinite, ct);
            throw new LinkException("unreachable");
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

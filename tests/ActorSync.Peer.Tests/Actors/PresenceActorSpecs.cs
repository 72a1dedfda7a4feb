using Akka.Actor;
using Akka.TestKit;
using ActorSync.Core.Identity;
using ActorSync.Peer.Actors;
using ActorSync.Peer.Actors.Links;
using ActorSync.Peer.Actors.Presence;
using ActorSync.Peer.Links;
using Xunit;
using Xunit.Abstractions;
using static ActorSync.Peer.Actors.Presence.PresenceProtocol;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// The presence tree (/presence/&lt;account&gt;/&lt;device&gt;) with time driven by sending
/// <see cref="Tick"/> directly: no timer runs and nothing sleeps. Thresholds are the shipped
/// config's (unreachable after 6 s, gone after 120 s).
/// </summary>
public sealed class PresenceActorSpecs : PeerActorSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly RemoteMember _bob = new("bob");
    private readonly RemoteMember _carol = new("carol");
    private readonly KnownDevices _known = new(new PinDirectory());
    private readonly ManualClock _clock = new(T0);
    private readonly TestProbe _links;
    private readonly TestProbe _changes;

    public PresenceActorSpecs(ITestOutputHelper output) : base(PeerFiles.Create("ann"), "presence-specs", output)
    {
        _known.Learn(_bob.Card);
        _known.Learn(_carol.Card);
        _links = CreateTestProbe("links");
        _changes = CreateTestProbe("changes");
        Sys.EventStream.Subscribe(_changes.Ref, typeof(PresenceChanged));
    }

    private TimeSpan Unreachable => Files.Settings.UnreachableAfter;
    private TimeSpan Gone => Files.Settings.GoneAfter;

    /// <summary>The tree with no timer of its own: ticks come from the spec.</summary>
    private IActorRef Presence()
    {
        var presence = Sys.ActorOf(PresenceActor.Props(_links.Ref, _known, _clock, Unreachable, Gone, TimeSpan.Zero), "presence");
        // One round trip: PreStart (the event stream subscription) has run once it answers.
        Snapshot(presence);
        return presence;
    }

    private PresenceSnapshot Snapshot(IActorRef presence)
    {
        presence.Tell(new GetPresence(), TestActor);
        return ExpectMsg<PresenceSnapshot>(Patience);
    }

    private DevicePresence StatusOf(IActorRef presence, DeviceId device) => Snapshot(presence).Devices.Single(d => d.Device == device);

    private PresenceChanged NextChange() => _changes.ExpectMsg<PresenceChanged>(Patience);

    [Fact]
    public void Config_should_give_presence_two_thresholds_the_specs_rely_on()
    {
        Assert.True(Unreachable > TimeSpan.Zero);
        Assert.True(Gone > Unreachable);
    }

    [Fact]
    public void PresenceActor_should_take_a_seen_device_online_then_unreachable_then_gone_as_ticks_pass()
    {
        var presence = Presence();
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7001", T0));

        var online = NextChange();
        Assert.Equal((PresenceStatus.Online, PresenceStatus.Unknown), (online.Presence.Status, online.Previous));
        Assert.Equal((_bob.Account.Id, _bob.Id, "127.0.0.1:7001"), (online.Presence.Account, online.Presence.Device, online.Presence.Address));
        Assert.Equal(T0, online.Presence.LastSeen);

        presence.Tell(new Tick(T0 + Unreachable - TimeSpan.FromMilliseconds(1)));
        Assert.Equal(PresenceStatus.Online, StatusOf(presence, _bob.Id).Status);

        presence.Tell(new Tick(T0 + Unreachable));
        var unreachable = NextChange();
        Assert.Equal((PresenceStatus.Unreachable, PresenceStatus.Online), (unreachable.Presence.Status, unreachable.Previous));
        Assert.Equal("127.0.0.1:7001", unreachable.Presence.Address);

        presence.Tell(new Tick(T0 + Gone - TimeSpan.FromMilliseconds(1)));
        Assert.Equal(PresenceStatus.Unreachable, StatusOf(presence, _bob.Id).Status);

        presence.Tell(new Tick(T0 + Gone));
        var gone = NextChange();
        Assert.Equal((PresenceStatus.Gone, PresenceStatus.Unreachable), (gone.Presence.Status, gone.Previous));
        Assert.Null(gone.Presence.Address);

        var snapshot = StatusOf(presence, _bob.Id);
        Assert.Equal(PresenceStatus.Gone, snapshot.Status);
        Assert.Null(snapshot.Address);
        Assert.Equal(T0, snapshot.LastSeen);
    }

    [Fact]
    public void PresenceActor_should_hand_every_new_address_of_a_seen_device_to_the_link_manager()
    {
        var presence = Presence();
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7001", T0));
        Assert.Equal(new LinkProtocol.DialHint(_bob.Id, "127.0.0.1:7001"), _links.ExpectMsg<LinkProtocol.DialHint>(Patience));

        // The same address again is no news; a new one is. The next hint proves the repeat sent none.
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7001", T0 + TimeSpan.FromSeconds(1)));
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, null, T0 + TimeSpan.FromSeconds(2)));
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7002", T0 + TimeSpan.FromSeconds(3)));
        Assert.Equal(new LinkProtocol.DialHint(_bob.Id, "127.0.0.1:7002"), _links.ExpectMsg<LinkProtocol.DialHint>(Patience));
        Assert.Equal("127.0.0.1:7002", StatusOf(presence, _bob.Id).Address);
    }

    [Fact]
    public void PresenceActor_should_forget_the_address_of_a_gone_device_and_dial_it_again_when_it_returns()
    {
        var presence = Presence();
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7001", T0));
        _links.ExpectMsg<LinkProtocol.DialHint>(Patience);
        NextChange();
        presence.Tell(new Tick(T0 + Gone));
        Assert.Equal(PresenceStatus.Gone, NextChange().Presence.Status);

        var back = T0 + Gone + TimeSpan.FromSeconds(5);
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7001", back));
        Assert.Equal(new LinkProtocol.DialHint(_bob.Id, "127.0.0.1:7001"), _links.ExpectMsg<LinkProtocol.DialHint>(Patience));
        var online = NextChange();
        Assert.Equal((PresenceStatus.Online, PresenceStatus.Gone), (online.Presence.Status, online.Previous));
        Assert.Equal(back, online.Presence.LastSeen);
    }

    [Fact]
    public void PresenceActor_should_keep_a_device_online_while_its_link_is_up_whatever_the_ticks_say()
    {
        var presence = Presence();
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7001", T0));
        NextChange();
        // Link state reaches presence through the event stream, as the peer links publish it.
        Sys.EventStream.Publish(new LinkProtocol.LinkStateChanged(_bob.Id, true, "direct"));
        Snapshot(presence);

        presence.Tell(new Tick(T0 + Unreachable));
        presence.Tell(new Tick(T0 + Gone + TimeSpan.FromHours(1)));
        var snapshot = StatusOf(presence, _bob.Id);
        Assert.Equal(PresenceStatus.Online, snapshot.Status);
        Assert.Equal("127.0.0.1:7001", snapshot.Address);

        // Once the link is down, the ticks count again; the next change is the first one published since online.
        Sys.EventStream.Publish(new LinkProtocol.LinkStateChanged(_bob.Id, false, "none"));
        presence.Tell(new Tick(T0 + Gone + TimeSpan.FromHours(2)));
        var next = NextChange();
        Assert.Equal(PresenceStatus.Online, next.Previous);
        Assert.NotEqual(PresenceStatus.Online, next.Presence.Status);
    }

    [Fact]
    public void PresenceActor_should_take_a_device_online_when_its_link_comes_up_and_publish_it()
    {
        var presence = Presence();
        Sys.EventStream.Publish(new LinkProtocol.LinkStateChanged(_bob.Id, true, "direct"));
        var online = NextChange();
        Assert.Equal((PresenceStatus.Online, PresenceStatus.Unknown), (online.Presence.Status, online.Previous));
        Assert.Equal(_bob.Account.Id, online.Presence.Account);
        Assert.Equal(PresenceStatus.Online, StatusOf(presence, _bob.Id).Status);
    }

    [Fact]
    public void PresenceActor_should_count_a_device_whose_link_went_down_as_last_seen_then()
    {
        var presence = Presence();
        Sys.EventStream.Publish(new LinkProtocol.LinkStateChanged(_bob.Id, true, "direct"));
        Assert.Equal(PresenceStatus.Online, NextChange().Presence.Status);

        var down = T0 + TimeSpan.FromMinutes(10);
        _clock.Now = down;
        Sys.EventStream.Publish(new LinkProtocol.LinkStateChanged(_bob.Id, false, "none"));
        presence.Tell(new Tick(down));
        Assert.Equal(PresenceStatus.Online, StatusOf(presence, _bob.Id).Status);

        presence.Tell(new Tick(down + Unreachable));
        Assert.Equal(PresenceStatus.Unreachable, NextChange().Presence.Status);
        presence.Tell(new Tick(down + Gone));
        Assert.Equal(PresenceStatus.Gone, NextChange().Presence.Status);
    }

    [Fact]
    public void PresenceActor_should_ignore_link_changes_of_devices_it_does_not_know()
    {
        var presence = Presence();
        using var stranger = new RemoteMember("stranger");
        Sys.EventStream.Publish(new LinkProtocol.LinkStateChanged(stranger.Id, true, "direct"));
        Sys.EventStream.Publish(new LinkProtocol.LinkStateChanged(_bob.Id, true, "direct"));
        // The first change published is bob's: the stranger's link made none.
        Assert.Equal(_bob.Id, NextChange().Presence.Device);
        Assert.DoesNotContain(Snapshot(presence).Devices, d => d.Device == stranger.Id);
    }

    [Fact]
    public void PresenceActor_should_pass_an_address_hint_to_the_link_manager_without_claiming_the_device_is_online()
    {
        var presence = Presence();
        presence.Tell(new AddressHint(_bob.Account.Id, _bob.Id, "127.0.0.1:7100"));
        Assert.Equal(new LinkProtocol.DialHint(_bob.Id, "127.0.0.1:7100"), _links.ExpectMsg<LinkProtocol.DialHint>(Patience));
        var snapshot = StatusOf(presence, _bob.Id);
        Assert.Equal(PresenceStatus.Unknown, snapshot.Status);
        Assert.Equal("127.0.0.1:7100", snapshot.Address);
        Assert.Null(snapshot.LastSeen);

        // A repeated hint is not dialed again; the next hint the link manager gets is the new address.
        presence.Tell(new AddressHint(_bob.Account.Id, _bob.Id, "127.0.0.1:7100"));
        presence.Tell(new AddressHint(_bob.Account.Id, _bob.Id, "127.0.0.1:7200"));
        Assert.Equal(new LinkProtocol.DialHint(_bob.Id, "127.0.0.1:7200"), _links.ExpectMsg<LinkProtocol.DialHint>(Patience));

        // Hints alone never make a device unreachable or gone: it was never seen.
        presence.Tell(new Tick(T0 + Gone + TimeSpan.FromHours(1)));
        Assert.Equal(PresenceStatus.Unknown, StatusOf(presence, _bob.Id).Status);
    }

    [Fact]
    public void PresenceActor_should_fan_one_tick_out_to_every_device_of_every_account()
    {
        var presence = Presence();
        using var bobPhone = DeviceIdentity.Generate();
        presence.Tell(new Seen(_bob.Account.Id, _bob.Id, null, T0));
        presence.Tell(new Seen(_bob.Account.Id, bobPhone.Id, null, T0 + TimeSpan.FromSeconds(1)));
        presence.Tell(new Seen(_carol.Account.Id, _carol.Id, null, T0 + TimeSpan.FromSeconds(2)));
        for (var i = 0; i < 3; i++) Assert.Equal(PresenceStatus.Online, NextChange().Presence.Status);

        presence.Tell(new Tick(T0 + TimeSpan.FromSeconds(2) + Unreachable));
        var changed = Enumerable.Range(0, 3).Select(_ => NextChange()).ToList();
        Assert.All(changed, c => Assert.Equal(PresenceStatus.Unreachable, c.Presence.Status));
        Assert.Equal(new[] { _bob.Id, bobPhone.Id, _carol.Id }.Order(), changed.Select(c => c.Presence.Device).Order());

        var snapshot = Snapshot(presence);
        Assert.Equal(3, snapshot.Devices.Count);
        Assert.Equal(2, snapshot.Devices.Count(d => d.Account == _bob.Account.Id));
    }

    [Fact]
    public void PresenceActor_should_answer_an_empty_snapshot_before_it_knows_anyone()
    {
        var presence = Presence();
        Assert.Empty(Snapshot(presence).Devices);
    }

    [Fact]
    public void DevicePresenceActor_should_apply_the_thresholds_on_its_own()
    {
        var device = Sys.ActorOf(DevicePresenceActor.Props(_bob.Account.Id, _bob.Id, _links.Ref, Unreachable, Gone), "bob-device");
        device.Tell(new Seen(_bob.Account.Id, _bob.Id, "127.0.0.1:7001", T0));
        _links.ExpectMsg<LinkProtocol.DialHint>(Patience);
        Assert.Equal(PresenceStatus.Online, NextChange().Presence.Status);

        // Ticks far apart jump straight to the state the silence calls for.
        device.Tell(new Tick(T0 + Gone + TimeSpan.FromDays(1)));
        var gone = NextChange();
        Assert.Equal((PresenceStatus.Gone, PresenceStatus.Online), (gone.Presence.Status, gone.Previous));

        // A tick from before the last sighting (a clock step back) does not resurrect or crash it.
        device.Tell(new Tick(T0 - TimeSpan.FromHours(1)));
        device.Tell(new GetPresence(), TestActor);
        Assert.Equal(PresenceStatus.Gone, ExpectMsg<DevicePresence>(Patience).Status);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        _bob.Dispose();
        _carol.Dispose();
    }
}

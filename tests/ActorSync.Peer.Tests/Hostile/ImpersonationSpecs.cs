using System.Security.Cryptography;
using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Peer.Links;
using ActorSync.Peer.Tests.Actors;
using ActorSync.Peer.Tests.Sync;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Peer.Tests.Hostile;

/// <summary>
/// Identity is the pinned key, never a claim: a device nobody invited is refused at the door, and a
/// device let in under its own key that claims to be another device (in its Hello, in the deltas it
/// signs, in the invitations it sends) gets nothing accepted.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class ImpersonationSpecs(ITestOutputHelper output)
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Fact(Timeout = 300_000)]
    public async Task Peer_should_refuse_a_device_certificate_nobody_invited_and_keep_serving_its_contact()
    {
        await using var ws = await SharedWorkspace.StartAsync();
        // The stranger knows ann's and bob's cards (cards are public), so it knows which keys to expect; they do not know its key.
        await using var stranger = new RogueDevice("stranger");
        for (var i = 0; i < 3; i++)
        {
            foreach (var victim in new[] { ws.Ann, ws.Bob })
            {
                var refused = await Assert.ThrowsAsync<LinkException>(() => stranger.DialAsync(victim));
                output.WriteLine(refused.Message);
                Assert.Contains("unknown device key", refused.Message, StringComparison.Ordinal);
            }
        }
        // A stranger holding a copy of bob's card (all public) is still the stranger's key at TLS.
        Assert.DoesNotContain(await ws.Ann.Api.ContactsAsync(default), c => c.Name == "stranger");
        await ws.ProveStillServingAsync("a stranger's dials");
    }

    [Fact(Timeout = 300_000)]
    public async Task Peer_should_accept_nothing_from_a_member_device_that_claims_to_be_another_device()
    {
        await using var mallory = new RogueDevice("mallory");
        await using var ws = await SharedWorkspace.StartAsync(mallory.Member);
        // A second workspace of ann's, shared with bob only: mallory must not get a byte of it.
        var secret = await ws.Ann.Api.CreateWorkspaceAsync("Not for mallory", default);
        await ws.Ann.Api.CreateEntryAsync(secret, ToolKind.Notepad, new Dictionary<string, string> { ["title"] = "private" }, default);
        var secretId = WorkspaceId.Parse(secret);
        var toAnn = await mallory.DialAsync(ws.Ann);
        await mallory.JoinAsync(toAnn, ws);
        var bobCard = ContactCard.Parse(await ws.Bob.Api.CardAsync(default));
        var annCard = ContactCard.Parse(await ws.Ann.Api.CardAsync(default));
        var bobDevice = bobCard.Devices[0].Id;
        var before = await ws.Ann.Api.ShowWorkspaceAsync(ws.Id, default);
        var contactsBefore = await ws.Ann.Api.ContactsAsync(default);

        // 1. A Hello with bob's card and device id: frames on this link stay mallory's.
        toAnn.Send(new LinkFrame { Hello = new Hello { Card = ByteString.CopyFrom(bobCard.Encoded), Device = bobDevice.ToWire() } });

        // 2. Deltas in bob's name: bob's device signed by mallory's key; bob's account on mallory's device.
        var chat = mallory.With(r => r.State.DefaultTool(ToolKind.Chat)!.Value);
        var forged = mallory.With(r => new[]
        {
            Forge.Seal(r, Forge.NextHeader(r, bobCard.AccountId, bobDevice, chat, OpKind.CreateEntry, Now), Forge.Entry("bob's device, mallory's key"), mallory.Member.Device.Signing),
            Forge.Seal(r, Forge.NextHeader(r, bobCard.AccountId, mallory.Member.Id, chat, OpKind.CreateEntry, Now), Forge.Entry("bob's account, mallory's device"), mallory.Member.Device.Signing),
        });
        toAnn.Send(RemoteMember.Batch(ws.WorkspaceId, forged));

        // 3. Invitations "from bob": bob's card as inviter, signed by mallory's device (named as such, or as bob's).
        var keyring = RandomNumberGenerator.GetBytes(64);
        var trap = new Invitation(WorkspaceId.New(), "Trap", bobCard, annCard.AccountId, Role.Manager, new DeltaId(mallory.Member.Id, 1),
            KeyWrap.Wrap(keyring, annCard.AgreementPublicKey, Invitation.KeyContext(WorkspaceId.New())));
        var signedByMallory = InvitationCodec.Encode(trap, mallory.Member.Device);
        var claimsBobsDevice = InvitationCodec.Encode(trap with { InviteDelta = new DeltaId(bobDevice, 1) }, mallory.Member.Device);
        bobDevice.Value.WriteTo(claimsBobsDevice.AsSpan(claimsBobsDevice.Length - Signing.SignatureSize - Fingerprint.Size, Fingerprint.Size));
        toAnn.Send(RemoteMember.InvitationFrame(signedByMallory));
        toAnn.Send(RemoteMember.InvitationFrame(claimsBobsDevice));

        // 4. Asking for the workspace it is not in, as if it were bob's device (it is not, and it is not a member).
        toAnn.Send(RemoteMember.Summary(secretId, VersionVector.Empty));
        toAnn.Send(new LinkFrame { Ack = new Ack { Workspace = secretId.ToWire(), Applied = VersionVector.Empty.ToWire() } });

        var acked = await toAnn.BarrierAsync(ws.WorkspaceId);
        await toAnn.BarrierAsync(ws.WorkspaceId);

        Assert.All(forged, d => Assert.False(acked.Contains(d.Id)));
        var after = await ws.Ann.Api.ShowWorkspaceAsync(ws.Id, default);
        Assert.Equal(before.StateHash, after.StateHash);
        Assert.Equal((before.Deltas, before.Rejected), (after.Deltas, after.Rejected));
        Assert.Empty(await ws.Ann.Api.InvitationsAsync(default));
        var contactsAfter = await ws.Ann.Api.ContactsAsync(default);
        Assert.Equal(contactsBefore.Select(c => (c.Account, c.Name, string.Join(",", c.Devices))).Order(),
            contactsAfter.Select(c => (c.Account, c.Name, string.Join(",", c.Devices))).Order());
        Assert.DoesNotContain(toAnn.Received, f => f.BodyCase == LinkFrame.BodyOneofCase.Deltas && f.Deltas.Workspace == secretId.ToWire());
        Assert.DoesNotContain(toAnn.Received, f => f.BodyCase == LinkFrame.BodyOneofCase.Summary && f.Summary.Workspace == secretId.ToWire());
        Assert.False(toAnn.Connection.Closed.IsCompleted);

        await ws.ProveStillServingAsync("a device claiming to be bob");
        // Bob's real deltas still reach every member, mallory included, as bob's.
        Assert.DoesNotContain(await ws.Bob.Api.EntriesAsync(ws.Id, ToolKind.Chat, default), e => e.Fields["text"].Contains("mallory's", StringComparison.Ordinal));
        var annHash = await ws.HashAsync(ws.Ann);
        // Ann took the forged ids as "mallory has them" (she sent them); mallory's own summary, as its anti-entropy
        // would send, sets that right.
        await TestPeer.Eventually(() =>
        {
            toAnn.Send(RemoteMember.Summary(ws.WorkspaceId, mallory.With(r => r.Seen)));
            return Task.FromResult(mallory.StateHash() == annHash);
        }, "mallory, still a member, converges too");
    }
}

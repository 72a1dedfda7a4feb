using System.Buffers.Binary;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Replication;
using ActorSync.Protocol;
using ActorSync.Protocol.Wire;
using Google.Protobuf;
using static ActorSync.Peer.Actors.Links.LinkProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// State transfer for invitees once the log is pruned (ARCHITECTURE section 5). A device whose
/// summary lacks deltas this replica pruned cannot be served from the log; if this device authored
/// the invitation of its account (the one party an invitee already trusts), it sends an image of
/// the replica, sealed for the invitee's account and signed part by part by this device. The
/// invitee takes it only from the device its invitation names and only if it covers everything it
/// holds; its log (the ids the image lists) is then pulled with "wanted" summaries and adopted.
/// </summary>
public sealed partial class WorkspaceActor
{
    private const int ImagePartBytes = 1024 * 1024;
    private const int MaxImageParts = 1024;
    private const int MaxWanted = 512;
    private readonly Dictionary<DeviceId, (DateTimeOffset At, int Times)> _imageSent = [];
    private (ByteString Transfer, byte[]?[] Parts, int Received)? _incoming;

    /// <summary>
    /// An image is sent again to the same device no sooner than this, doubling each time up to an
    /// hour: it may be large and on its way through a relay, or the device may be unable to take it.
    /// </summary>
    private TimeSpan ImageResendAfter(int times) => TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks,
        Math.Max(TimeSpan.FromSeconds(30).Ticks, 10 * _peer.Settings.AntiEntropyInterval.Ticks) << Math.Min(times, 10)));

    /// <summary>After a summary: a device that lacks pruned deltas gets an image, if this device invited it.</summary>
    private void MaybeSendImage(MemberSync sync)
    {
        var r = _replica!;
        if (!r.LacksPruned(sync.Known)) return;
        var member = r.State.Current.Members.Values.FirstOrDefault(m => m.Card.FindDevice(sync.Device) is not null);
        var invite = member is null ? null
            : r.State.Admin.Events.LastOrDefault(e => e.Op is InviteMember i && i.Card.AccountId == member.Id);
        if (member is null || invite?.Meta.Id.Device != _peer.Device.Id) return;
        var now = _peer.Clock.GetUtcNow();
        var sent = _imageSent.GetValueOrDefault(sync.Device);
        if (sent.Times > 0 && now - sent.At < ImageResendAfter(sent.Times - 1)) return;
        _imageSent[sync.Device] = (now, sent.Times + 1);
        SendImage(sync.Device, member.Card);
    }

    private void SendImage(DeviceId device, ContactCard card)
    {
        var r = _replica!;
        var payload = new WireWriter(1024 * 1024);
        var keys = r.Keyring.Export();
        payload.Bytes(keys);
        CryptographicOperations.ZeroMemory(keys);
        var image = r.WriteImage(ImageLog.Transfer);
        payload.Raw(image);
        CryptographicOperations.ZeroMemory(image);
        var sealedImage = ImageSeal.Seal(payload.WrittenSpan, card.AgreementPublicKey, ImageContext);
        payload.Wipe();
        var count = (sealedImage.Length + ImagePartBytes - 1) / ImagePartBytes;
        if (count > MaxImageParts)
        {
            _log.Error("Workspace {Workspace}: its image ({Bytes} bytes) is too large to send to {Device}", _id, sealedImage.Length, device.Short);
            return;
        }
        var transfer = RandomNumberGenerator.GetBytes(16);
        for (var i = 0; i < count; i++)
        {
            var part = sealedImage.AsSpan(i * ImagePartBytes, Math.Min(ImagePartBytes, sealedImage.Length - i * ImagePartBytes));
            var signature = _peer.Device.Signing.Sign(PartSigned(transfer, (uint)i, (uint)count, part));
            _links.Tell(new SendFrame(device, new LinkFrame
            {
                Image = new StateImagePart
                {
                    Workspace = _id.ToWire(), Transfer = ByteString.CopyFrom(transfer), Index = (uint)i, Count = (uint)count,
                    Part = ByteString.CopyFrom(part), Signature = ByteString.CopyFrom(signature),
                },
            }));
        }
        _log.Info("Workspace {Workspace}: sent an image ({Bytes} bytes, {Parts} parts) to {Device}, whose copy lacks pruned deltas",
            _id, sealedImage.Length, count, device.Short);
    }

    /// <summary>What each part's signature covers: domain, workspace, transfer, position, and the part's digest.</summary>
    private byte[] PartSigned(ReadOnlySpan<byte> transfer, uint index, uint count, ReadOnlySpan<byte> part)
    {
        var w = new WireWriter(128);
        w.Raw("actorsync/image-part/v1"u8);
        w.Raw(_id.ToBytes());
        w.Raw(transfer);
        Span<byte> numbers = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(numbers, index);
        BinaryPrimitives.WriteUInt32BigEndian(numbers[4..], count);
        w.Raw(numbers);
        w.Raw(SHA256.HashData(part));
        return w.ToArray();
    }

    /// <summary>
    /// Whether this copy takes an image now: only while it is still joining (not a member in its own
    /// view) or shortly after a re-invitation. Otherwise its inviter, trusted once for the invitation,
    /// could replace a member's copy at any time.
    /// </summary>
    private bool ImageWelcome => _replica is not null && (!_replica.IsMember || _peer.NowMillis < _imageWelcomeUntil);
    private long _imageWelcomeUntil;

    private void OnImagePart(DeviceId from, StateImagePart p)
    {
        var inviter = _joinedBy?.InviteDelta.Device;
        if (from != inviter || !ImageWelcome)
        {
            _log.Warning("Workspace {Workspace}: an image part from {Device}, which did not invite this device or was not asked for one: dropped",
                _id, from.Short);
            return;
        }
        if (p.Transfer.Length != 16 || p.Count is 0 or > MaxImageParts || p.Index >= p.Count || p.Part.Length > ImagePartBytes
            || _joinedBy!.Inviter.FindDevice(from) is not { } device
            || !Signing.Verify(device.PublicKey, PartSigned(p.Transfer.Span, p.Index, p.Count, p.Part.Span), p.Signature.Span))
        {
            _log.Warning("Workspace {Workspace}: a malformed or badly signed image part from {Device}: dropped", _id, from.Short);
            return;
        }
        // A new transfer replaces one still incomplete (the inviter sent a fresher image).
        if (_incoming is not { } incoming || incoming.Transfer != p.Transfer || incoming.Parts.Length != p.Count)
            incoming = (p.Transfer, new byte[]?[p.Count], 0);
        if (incoming.Parts[p.Index] is null)
        {
            incoming.Parts[p.Index] = p.Part.ToByteArray();
            incoming.Received++;
        }
        _incoming = incoming;
        if (incoming.Received < incoming.Parts.Length) return;
        _incoming = null;
        var whole = new byte[incoming.Parts.Sum(part => (long)part!.Length)];
        var at = 0;
        foreach (var part in incoming.Parts)
        {
            Buffer.BlockCopy(part!, 0, whole, at, part!.Length);
            at += part.Length;
        }
        AdoptImage(whole, from);
    }

    private void AdoptImage(byte[] sealedImage, DeviceId from)
    {
        Replica next;
        var keyring = new EpochKeyring(_id);
        byte[]? payload = null;
        try
        {
            payload = ImageSeal.Open(sealedImage, _peer.Account.Agreement, ImageContext);
            var r = new WireReader(payload);
            keyring.Import(r.Bytes(KeyWrap.MaxSecretSize, "image keyring"));
            next = Replica.FromImage(payload.AsSpan(r.Position), _peer.Account, _peer.Device, keyring, _chunks);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever is wrong with it (it is the inviter's word, parsed with bounds), the copy stays as it was.
            keyring.Dispose();
            _log.Warning("Workspace {Workspace}: an image from {Device} does not open or parse ({Reason}): dropped", _id, from.Short, e.Message);
            return;
        }
        finally
        {
            if (payload is not null) CryptographicOperations.ZeroMemory(payload);
        }
        var current = _replica!;
        if (next.Id != _id || !next.Seen.Dominates(current.Seen) || next.Seen.Equals(current.Seen))
        {
            // Taking it would lose something this copy holds (or gain nothing).
            _log.Info("Workspace {Workspace}: an image from {Device} does not cover this copy: not taken", _id, from.Short);
            next.Dispose();
            return;
        }
        _replica = next;
        current.Dispose();
        _imageWelcomeUntil = 0;
        foreach (var sync in _sync.Values) sync.Cursor = 0;
        _log.Info("Workspace {Workspace}: started from an image ({Deltas} deltas; {Wanted} to fetch for the log)",
            _id, next.State.AppliedCount, next.Adoptable.Count);
        Publish("sync", $"received the workspace's state from its inviter ({next.State.AppliedCount} changes)");
        LearnMembers();
        // The image is this copy's durable base from here: a snapshot, not the journal, holds it.
        // Until it is saved, sync frames and writes wait (see OnImagePending), so nothing journaled depends on an unsaved image.
        _imagePending = true;
        if (!_snapshotting) TakeSnapshot();
    }

    /// <summary>An image was taken and its snapshot is not saved yet.</summary>
    private bool _imagePending;

    /// <summary>While an image's snapshot is being saved: sync frames are dropped (members send again) and writes refused.</summary>
    private bool OnImagePending(object message)
    {
        if (!_imagePending) return false;
        switch (message)
        {
            case InboundFrame { Frame.BodyCase: LinkFrame.BodyOneofCase.Deltas or LinkFrame.BodyOneofCase.Summary or LinkFrame.BodyOneofCase.Ack }:
                return true;
            case Author or AuthorIn or AuthorManyIn or Invite or Uninvite or PutFileContent or SetPermissions or WorkspaceProtocol.Reinvite
                or FileTransferProtocol.BeginUpload or WorkspaceBackupProtocol.ExportWorkspace:
                Sender.Tell(new Refused("this copy is saving the workspace's state it just received; try again in a moment", 503));
                return true;
            default:
                return false;
        }
    }

    /// <summary>Once an image is durable: tell the members, and ask for its log.</summary>
    private void AfterImageSaved()
    {
        _imagePending = false;
        foreach (var s in _sync.Values.Where(s => s.LinkUp)) SendSummary(s);
    }

    // Ids of the image's log asked for, and when: asked again only after a while, so a window in
    // flight is not asked for over and over.
    private readonly Dictionary<DeltaId, long> _wantedAt = [];

    private void AddWanted(Summary summary)
    {
        if (_replica is not { Adoptable.Count: > 0 } r) return;
        var now = _peer.NowMillis;
        var again = 4 * (long)_peer.Settings.AntiEntropyInterval.TotalMilliseconds;
        foreach (var id in r.Adoptable)
        {
            if (summary.Wanted.Count >= MaxWanted) break;
            if (_wantedAt.TryGetValue(id, out var asked) && now - asked < again) continue;
            _wantedAt[id] = now;
            summary.Wanted.Add(new VectorEntry { Device = id.Device.ToWire(), Seq = id.Seq });
        }
    }

    /// <summary>Whether some of the image's log has not been asked for lately (worth a summary now).</summary>
    private bool WantsMore() => _replica is { Adoptable.Count: > 0 } r && r.Adoptable.Any(id => !_wantedAt.ContainsKey(id));

    /// <summary>
    /// Sends the deltas a device asks for by id (it started from an image and lacks them in its log),
    /// at most a sync window of them; ids this replica covers but pruned are named as gone, so the
    /// asker stops asking (only its inviter's word on that is taken).
    /// </summary>
    private void SendWanted(MemberSync sync, IEnumerable<VectorEntry> wanted)
    {
        var r = _replica!;
        var settings = _peer.Settings;
        var frame = NewBatch();
        var bytes = 0;
        var batches = 0;
        foreach (var entry in wanted.Take(MaxWanted))
        {
            DeltaId id;
            try
            {
                id = new DeltaId(entry.Device.ToDeviceId(), entry.Seq);
            }
            catch (WireFormatException)
            {
                continue;
            }
            if (r.Logged(id) is not { } logged)
            {
                if (r.State.IsApplied(id) && !r.Adoptable.Contains(id)) frame.Deltas.Gone.Add(entry);
                continue;
            }
            if (bytes > 0 && bytes + logged.Length > settings.MaxBatchBytes)
            {
                Flush(sync, frame);
                if (++batches >= settings.MaxBatchesInFlight) return;
                frame = NewBatch();
                bytes = 0;
            }
            if (ReadLogged(logged) is not { } sealedBytes) continue;
            frame.Deltas.Deltas.Add(sealedBytes);
            bytes += logged.Length;
        }
        if (bytes > 0 || frame.Deltas.Gone.Count > 0) Flush(sync, frame);
    }

    /// <summary>Ids the inviter says it pruned: nobody holds them to send, and every member holds them, so this copy stops wanting them.</summary>
    private void OnGone(DeviceId from, DeltaBatch batch)
    {
        if (batch.Gone.Count == 0 || _replica is null || from != _joinedBy?.InviteDelta.Device) return;
        var gone = new List<DeltaId>();
        foreach (var entry in batch.Gone)
        {
            try
            {
                gone.Add(new DeltaId(entry.Device.ToDeviceId(), entry.Seq));
            }
            catch (WireFormatException)
            {
            }
        }
        _replica.ForgetAdoptable(gone);
    }

    /// <summary>The sealed bytes of a logged delta for a frame; null (logged) when its place in the chunk pack cannot be read.</summary>
    private ByteString? ReadLogged(LoggedDelta logged)
    {
        // Wrapped, not copied: a logged delta's bytes are final once the replica hands it out.
        if (logged.HeldBytes is { } held) return UnsafeByteOperations.UnsafeWrap(held);
        try
        {
            return UnsafeByteOperations.UnsafeWrap(_replica!.BytesOf(logged));
        }
        catch (IOException e)
        {
            _log.Error("Workspace {Workspace}: delta {Delta} cannot be read from the chunk pack ({Reason}); not sent", _id, logged.Id, e.Message);
            return null;
        }
    }
}

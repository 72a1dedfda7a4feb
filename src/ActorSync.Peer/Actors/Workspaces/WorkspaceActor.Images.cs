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
    private readonly Dictionary<DeviceId, DateTimeOffset> _imageSent = [];
    private (ByteString Transfer, byte[]?[] Parts, int Received)? _incoming;

    /// <summary>An image is sent again to the same device no sooner than this: it may be large, and on its way through a relay.</summary>
    private TimeSpan ImageResendAfter => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, 10 * _peer.Settings.AntiEntropyInterval.Ticks));

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
        if (_imageSent.TryGetValue(sync.Device, out var at) && now - at < ImageResendAfter) return;
        _imageSent[sync.Device] = now;
        SendImage(sync.Device, member.Card);
    }

    private void SendImage(DeviceId device, ContactCard card)
    {
        var r = _replica!;
        var payload = new WireWriter(1024 * 1024);
        var keys = r.Keyring.Export();
        payload.Bytes(keys);
        CryptographicOperations.ZeroMemory(keys);
        payload.Raw(r.WriteImage(ImageLog.Transfer));
        var sealedImage = ImageSeal.Seal(payload.WrittenSpan, card.AgreementPublicKey, ImageContext);
        payload.Reset();
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

    private void OnImagePart(DeviceId from, StateImagePart p)
    {
        var inviter = _joinedBy?.InviteDelta.Device;
        if (from != inviter)
        {
            _log.Warning("Workspace {Workspace}: an image part from {Device}, which did not invite this device: dropped", _id, from.Short);
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
        AdoptImage(incoming.Parts.SelectMany(part => part!).ToArray(), from);
    }

    private void AdoptImage(byte[] sealedImage, DeviceId from)
    {
        Replica next;
        var keyring = new EpochKeyring(_id);
        try
        {
            var payload = ImageSeal.Open(sealedImage, _peer.Account.Agreement, ImageContext);
            var r = new WireReader(payload);
            keyring.Import(r.Bytes(KeyWrap.MaxSecretSize, "image keyring"));
            next = Replica.FromImage(payload.AsSpan(r.Position), _peer.Account, _peer.Device, keyring, _chunks);
            CryptographicOperations.ZeroMemory(payload);
        }
        catch (WireFormatException e)
        {
            keyring.Dispose();
            _log.Warning("Workspace {Workspace}: an image from {Device} does not open or parse ({Reason}): dropped", _id, from.Short, e.Message);
            return;
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
        foreach (var sync in _sync.Values) sync.Cursor = 0;
        _log.Info("Workspace {Workspace}: started from an image ({Deltas} deltas; {Wanted} to fetch for the log)",
            _id, next.State.AppliedCount, next.Adoptable.Count);
        Publish("sync", $"received the workspace's state from its inviter ({next.State.AppliedCount} changes)");
        LearnMembers();
        // The image is this copy's durable base from here: a snapshot, not the journal, holds it.
        _summariseAfterSnapshot = true;
        TakeSnapshot();
    }

    private bool _summariseAfterSnapshot;

    /// <summary>Once an image is durable: tell the members, and ask for its log.</summary>
    private void AfterImageSaved()
    {
        if (!_summariseAfterSnapshot) return;
        _summariseAfterSnapshot = false;
        foreach (var s in _sync.Values.Where(s => s.LinkUp)) SendSummary(s);
    }

    private void AddWanted(Summary summary)
    {
        if (_replica is not { Adoptable.Count: > 0 } r) return;
        foreach (var id in r.Adoptable.Take(MaxWanted)) summary.Wanted.Add(new VectorEntry { Device = id.Device.ToWire(), Seq = id.Seq });
    }

    /// <summary>Sends the deltas a device asks for by id (it started from an image and lacks them in its log).</summary>
    private void SendWanted(MemberSync sync, IEnumerable<VectorEntry> wanted)
    {
        var r = _replica!;
        var frame = NewBatch();
        var bytes = 0;
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
            if (r.Logged(id) is not { } logged) continue;
            if (bytes > 0 && bytes + logged.Length > _peer.Settings.MaxBatchBytes)
            {
                Flush(sync, frame);
                frame = NewBatch();
                bytes = 0;
            }
            frame.Deltas.Deltas.Add(logged.InMemory is { } held ? ByteString.CopyFrom(held.Bytes) : UnsafeByteOperations.UnsafeWrap(r.BytesOf(logged)));
            bytes += logged.Length;
        }
        if (bytes > 0) Flush(sync, frame);
    }
}

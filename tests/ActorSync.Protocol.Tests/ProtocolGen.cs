using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Protocol.Journal;
using ActorSync.Protocol.Wire;
using CsCheck;
using Google.Protobuf;

namespace ActorSync.Protocol.Tests;

/// <summary>Generators of protocol messages (journal events, link frames) and core values for property specs.</summary>
internal static class ProtocolGen
{
    /// <summary>Text without lone surrogates (which UTF-8 cannot carry), with multi-byte and control characters.</summary>
    public static readonly Gen<string> Text =
        Gen.Char["abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-_./:éü€中\n\t\0"].Array[0, 40].Select(chars => new string(chars));

    public static readonly Gen<ByteString> Bytes = Gen.Byte.Array[0, 300].Select(ByteString.CopyFrom);

    public static readonly Gen<Fingerprint> Fingerprint =
        Gen.Select(Gen.ULong, Gen.ULong, Gen.UInt).Select((h, m, l) => new Fingerprint(h, m, l));

    public static readonly Gen<DeviceId> Device = Fingerprint.Select(f => new DeviceId(f));

    public static readonly Gen<WorkspaceId> Workspace = Gen.Select(Gen.ULong, Gen.ULong).Select((h, l) => new WorkspaceId(h, l));

    public static readonly Gen<ulong> Seq = Gen.Frequency((3, Gen.ULong[1, 1000]), (1, Gen.ULong[1, ulong.MaxValue]));

    /// <summary>Valid version vectors: distinct devices, positive sequence numbers.</summary>
    public static readonly Gen<VersionVector> Vector =
        Gen.Select(Device, Seq).Array[0, 16].Select(entries => VersionVector.From(
            entries.DistinctBy(e => e.Item1).Select(e => KeyValuePair.Create(e.Item1, e.Item2))));

    /// <summary>Any vector message a remote device could send: ids of any length, zero and repeated entries.</summary>
    public static readonly Gen<VersionVectorMsg> AnyVectorMsg =
        Gen.Select(Gen.Frequency((4, Device.Select(d => d.Value.ToBytes())), (1, Gen.Byte.Array[0, 40])), Gen.ULong[0, 5])
            .Array[0, 10]
            .Select(entries =>
            {
                var msg = new VersionVectorMsg();
                // Repeat some entries so duplicates turn up often.
                foreach (var (device, seq) in entries.Concat(entries.Where((_, i) => i % 3 == 1)))
                    msg.Entries.Add(new VectorEntry { Device = ByteString.CopyFrom(device), Seq = seq });
                return msg;
            });

    /// <summary>One generator per journal event type, with every field set to arbitrary content.</summary>
    public static readonly IReadOnlyDictionary<Type, Gen<IMessage>> JournalEvents = new Dictionary<Type, Gen<IMessage>>
    {
        [typeof(DeltaRecorded)] = Bytes.Select(b => (IMessage)new DeltaRecorded { Sealed = b }),
        [typeof(DeltasRecorded)] = Gen.Select(Bytes.Array[0, 8], Gen.Select(Gen.Long, Gen.Int, Bytes).Array[0, 4]).Select((bs, stored) =>
        {
            var e = new DeltasRecorded();
            e.Sealed.AddRange(bs);
            foreach (var (offset, length, sha) in stored) e.Stored.Add(new DeltasRecorded.Types.Stored { Offset = offset, Length = length, Digest = sha });
            return (IMessage)e;
        }),
        [typeof(KeyringRecorded)] = Bytes.Select(b => (IMessage)new KeyringRecorded { Wrapped = b }),
        [typeof(WorkspaceJoined)] = Bytes.Select(b => (IMessage)new WorkspaceJoined { Invitation = b }),
        [typeof(WorkspaceCreated)] = Bytes.Select(b => (IMessage)new WorkspaceCreated { Workspace = b }),
        [typeof(ContactRecorded)] = Gen.Select(Bytes, Text).Select((b, a) => (IMessage)new ContactRecorded { Card = b, Address = a }),
        [typeof(InvitationRecorded)] = Bytes.Select(b => (IMessage)new InvitationRecorded { Invitation = b }),
        [typeof(InvitationDismissed)] = Bytes.Select(b => (IMessage)new InvitationDismissed { Workspace = b }),
        [typeof(WorkspaceForgotten)] = Bytes.Select(b => (IMessage)new WorkspaceForgotten { Workspace = b }),
        [typeof(ReceiptRecorded)] = Bytes.Select(b => (IMessage)new ReceiptRecorded { Receipt = b }),
        [typeof(WorkspaceLeft)] = Gen.Select(Bytes, Bytes, Bytes.Array[0, 4]).Select((w, r, ds) =>
        {
            var e = new WorkspaceLeft { Workspace = w, Receipt = r };
            e.Devices.AddRange(ds);
            return (IMessage)e;
        }),
        [typeof(MemberSeen)] = Gen.Select(Bytes, Gen.Long).Select((d, t) => (IMessage)new MemberSeen { Device = d, Millis = t }),
        [typeof(InvitationForgotten)] = Bytes.Select(b => (IMessage)new InvitationForgotten { Workspace = b }),
        [typeof(WorkspaceEntered)] = Gen.Select(Gen.Long, Gen.Bool).Select((t, r) => (IMessage)new WorkspaceEntered { Millis = t, Reentry = r }),
        [typeof(WorkspaceSnapshot)] = Gen.Select(Bytes, Bytes, Bytes.Array[0, 3], Gen.Long).Select((image, keys, receipts, t) =>
        {
            var e = new WorkspaceSnapshot { Image = image, Keyring = keys, Entered = t, TrackedSince = t / 2 };
            e.Receipts.AddRange(receipts);
            e.Heard.Add(new MemberSeen { Device = keys, Millis = t });
            return (IMessage)e;
        }),
    };

    public static readonly Gen<IMessage> AnyJournalEvent = Gen.OneOf(JournalEvents.Values.ToArray());

    private static readonly Gen<VersionVectorMsg> VectorMsg = Gen.Frequency((3, Vector.Select(v => v.ToWire())), (1, AnyVectorMsg));

    /// <summary>One generator per body kind of a link frame.</summary>
    public static readonly IReadOnlyDictionary<LinkFrame.BodyOneofCase, Gen<LinkFrame>> FrameBodies = new Dictionary<LinkFrame.BodyOneofCase, Gen<LinkFrame>>
    {
        [LinkFrame.BodyOneofCase.Hello] = Gen.Select(Bytes, Bytes).Select((c, d) => new LinkFrame { Hello = new Hello { Card = c, Device = d } }),
        [LinkFrame.BodyOneofCase.Summary] = Gen.Select(Bytes, VectorMsg, Gen.Bool)
            .Select((w, v, hasVector) => new LinkFrame { Summary = hasVector ? new Summary { Workspace = w, Seen = v } : new Summary { Workspace = w } }),
        [LinkFrame.BodyOneofCase.Deltas] = Gen.Select(Bytes, Bytes.Array[0, 6]).Select((w, ds) =>
        {
            var batch = new DeltaBatch { Workspace = w };
            batch.Deltas.AddRange(ds);
            return new LinkFrame { Deltas = batch };
        }),
        [LinkFrame.BodyOneofCase.Ack] = Gen.Select(Bytes, VectorMsg).Select((w, v) => new LinkFrame { Ack = new Ack { Workspace = w, Applied = v } }),
        [LinkFrame.BodyOneofCase.Invitation] = Bytes.Select(b => new LinkFrame { Invitation = new InvitationEnvelope { Invitation = b } }),
        [LinkFrame.BodyOneofCase.Ping] = Gen.ULong.Select(n => new LinkFrame { Ping = new Ping { Nonce = n } }),
        [LinkFrame.BodyOneofCase.Refusal] = Text.Select(r => new LinkFrame { Refusal = new Refusal { Reason = r } }),
        [LinkFrame.BodyOneofCase.Receipt] = Bytes.Select(b => new LinkFrame { Receipt = new DeletionReceiptEnvelope { Receipt = b } }),
        [LinkFrame.BodyOneofCase.Image] = Gen.Select(Bytes, Bytes, Gen.UInt, Gen.UInt).Select((w, part, index, count) => new LinkFrame
        {
            Image = new StateImagePart { Workspace = w, Transfer = part, Index = index, Count = count, Part = part, Signature = w },
        }),
    };

    public static readonly Gen<LinkFrame> AnyFrame = Gen.OneOf(FrameBodies.Values.ToArray());
}

using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using CsCheck;

namespace ActorSync.Core.Tests.Encoding;

/// <summary>Generators of valid wire values (ids, version vectors, operations) for property specs.</summary>
public static class WireGen
{
    /// <summary>Text without lone surrogates (which UTF-8 cannot carry), with multi-byte and control characters.</summary>
    public static readonly Gen<string> Text =
        Gen.Char["abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789-_./:éü€中\n\t"].Array[0, 24].Select(chars => new string(chars));

    public static readonly Gen<Fingerprint> Fingerprint =
        Gen.Select(Gen.ULong, Gen.ULong, Gen.UInt).Select((h, m, l) => new Fingerprint(h, m, l));

    public static readonly Gen<AccountId> Account = Fingerprint.Select(f => new AccountId(f));

    public static readonly Gen<DeviceId> Device = Fingerprint.Select(f => new DeviceId(f));

    public static readonly Gen<ulong> Seq = Gen.Frequency((3, Gen.ULong[1, 1000]), (1, Gen.ULong[1, ulong.MaxValue]));

    public static readonly Gen<DeltaId> DeltaId = Gen.Select(Device, Seq).Select((d, s) => new DeltaId(d, s));

    public static readonly Gen<VersionVector> VersionVector =
        DeltaId.Array[0, 12].Select(ids => Causality.VersionVector.From(
            ids.GroupBy(i => i.Device).Select(g => KeyValuePair.Create(g.Key, g.Max(i => i.Seq)))));

    public static readonly Gen<ToolId> Tool =
        Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"].Array[1, ToolId.MaxLength].Select(c => new ToolId(new string(c)));

    public static readonly Gen<Role> Role = Gen.Enum<Role>();

    public static readonly Gen<string> Path =
        Gen.OneOf("a.txt", "docs/report.pdf", "photos/2024/cat 1.jpg", "ü/€.md", "x/y/z/w");

    public static readonly Gen<byte[]> Hash = Gen.Byte.Array[32];

    public static readonly Gen<EntryFields> Fields =
        Gen.Select(Gen.Char["abcdefgh"].Array[1, 3].Select(c => new string(c)), Text).Array[0, 5]
            .Select(pairs => new EntryFields(pairs.DistinctBy(p => p.Item1).Select(p => KeyValuePair.Create(p.Item1, p.Item2))));

    public static readonly Gen<WrappedKeyring> Wrapped =
        Gen.Select(Account, Gen.Byte.Array[0, 120]).Select((a, b) => new WrappedKeyring(a, b));

    /// <summary>Every kind of operation, with the card given standing in for every card-carrying one.</summary>
    public static Gen<DeltaOp> Op(ContactCard card) => Gen.OneOf<DeltaOp>(
        Text.Select(n => (DeltaOp)new CreateWorkspace(n, card)),
        Role.Select(r => (DeltaOp)new InviteMember(card, r)),
        Account.Select(a => (DeltaOp)new RemoveMember(a)),
        Gen.Select(Account, Role).Select((a, r) => (DeltaOp)new ChangeRole(a, r)),
        Gen.Select(Tool, Role, Gen.UInt[0, (uint)Permission.All]).Select((t, r, p) => (DeltaOp)new SetToolPermissions(t, r, (Permission)p)),
        Gen.Select(Tool, Gen.Byte[1, 7], Text).Select((t, k, n) => (DeltaOp)new AddTool(t, (ToolKind)k, n)),
        Tool.Select(t => (DeltaOp)new RemoveTool(t)),
        Gen.Const((DeltaOp)new RotateKey()),
        Gen.Const((DeltaOp)new UpdateMemberCard(card)),
        Gen.Const((DeltaOp)new DeleteWorkspace()),
        Fields.Select(f => (DeltaOp)new CreateEntry(f)),
        Gen.Select(DeltaId, Fields).Select((d, f) => (DeltaOp)new EditEntry(d, f)),
        DeltaId.Select(d => (DeltaOp)new DeleteEntry(d)),
        Gen.Select(Path, Gen.Long[0, long.MaxValue], Hash, Gen.Select(Hash, Gen.Int[0, int.MaxValue]).Array[0, 3])
            .Select((p, s, h, c) => (DeltaOp)new PutFile(p, s, h, c.Select(x => new FileChunk(x.Item1, x.Item2)).ToList())),
        Path.Select(p => (DeltaOp)new DeleteFile(p)));
}

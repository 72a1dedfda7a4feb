using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;

namespace ActorSync.Core.Replication;

public sealed partial class Replica
{
    /// <summary>
    /// Decides a command against the current state and, when it is allowed, seals and applies it
    /// locally. If the current epoch key is held by a non-member (concurrent uninvites) or missed
    /// by a member, a key rotation is authored first, so nothing new is readable by a removed member.
    /// </summary>
    public AuthorResult Author(ToolId tool, DeltaOp op, long nowMillis)
    {
        var sealedDeltas = new List<SealedDelta>(2);
        if (op is not (Operations.RotateKey or RemoveMember or CreateWorkspace) && State.Current.NeedsRekey)
        {
            var rotation = AuthorOne(ToolId.Workspace, _ => new Operations.RotateKey(WrapNewEpoch(State.Current.Members.Values.Select(m => m.Card))), nowMillis);
            if (!rotation.Ok) return rotation;
            sealedDeltas.AddRange(rotation.Deltas);
        }
        var result = AuthorOne(tool, _ => op, nowMillis);
        if (!result.Ok) return result;
        sealedDeltas.AddRange(result.Deltas);
        return new AuthorResult(sealedDeltas, null);
    }

    public AuthorResult Invite(ContactCard card, Role role, long nowMillis, out Invitation? invitation)
    {
        invitation = null;
        var result = Author(ToolId.Workspace, new InviteMember(card, role), nowMillis);
        if (!result.Ok) return result;
        invitation = new Invitation(Id, State.Current.Name, State.Current.Members[Account].Card, card.AccountId, role, result.Last.Id,
            KeyWrap.Wrap(Keyring.Export(), card.AgreementPublicKey, Invitation.KeyContext(Id)));
        return result;
    }

    /// <summary>Uninvite: removes the member and opens a new epoch whose key only the remaining members receive.</summary>
    public AuthorResult Uninvite(AccountId member, long nowMillis)
    {
        var remaining = State.Current.Members.Values.Where(m => m.Id != member).Select(m => m.Card).ToList();
        return AuthorOne(ToolId.Workspace, _ => new RemoveMember(member, WrapNewEpoch(remaining)), nowMillis);
    }

    public AuthorResult Rekey(long nowMillis) =>
        AuthorOne(ToolId.Workspace, _ => new Operations.RotateKey(WrapNewEpoch(State.Current.Members.Values.Select(m => m.Card))), nowMillis);

    private byte[]? _pendingEpochKey;

    /// <summary>A fresh epoch key (opened by the delta about to be sealed) plus all older keys, wrapped per recipient.</summary>
    private List<WrappedKeyring> WrapNewEpoch(IEnumerable<ContactCard> recipients)
    {
        _pendingEpochKey = EpochKeyring.NewKey();
        using var ring = new EpochKeyring(Id);
        ring.Import(Keyring.Export());
        ring.Add(EpochId.OpenedBy(new DeltaId(Device, _nextSeq)), _pendingEpochKey);
        var exported = ring.Export();
        return recipients.OrderBy(c => c.AccountId)
            .Select(c => new WrappedKeyring(c.AccountId, KeyWrap.Wrap(exported, c.AgreementPublicKey, Invitation.KeyContext(Id))))
            .ToList();
    }

    private AuthorResult AuthorOne(ToolId tool, Func<DeltaId, DeltaOp> makeOp, long nowMillis)
    {
        _pendingEpochKey = null;
        var id = new DeltaId(Device, _nextSeq);
        var op = makeOp(id);
        var deps = _heads.Where(h => h.Device != Device).ToList();
        var epoch = op is CreateWorkspace ? EpochId.OpenedBy(id) : State.Current.Epoch;
        var header = new DeltaHeader(Id, epoch, Account, Device, id.Seq, deps, _clock.Now(nowMillis), tool, op.Kind);
        var past = State.PastOf(header) ?? throw new InvalidOperationException("a head is not applied");
        if (State.Check(header, past, op) is { } reason) return AuthorResult.Refused(reason);
        if (!Keyring.Has(epoch) && !DeltaCrypto.SealedWithoutEpochKey(op.Kind))
            return AuthorResult.Refused("this device does not hold the current epoch key");

        var sealedDelta = DeltaCrypto.Seal(header, op, Keyring, _device.Signing);
        if (_pendingEpochKey is not null) Keyring.Add(EpochId.OpenedBy(id), _pendingEpochKey);
        _pendingEpochKey = null;
        _nextSeq++;
        var outcome = Receive(sealedDelta);
        if (outcome[0].Status != ReceiveStatus.Applied)
            throw new InvalidOperationException($"own delta not applied: {outcome[0].Status} {outcome[0].Reason}");
        return new AuthorResult([sealedDelta], null);
    }
}

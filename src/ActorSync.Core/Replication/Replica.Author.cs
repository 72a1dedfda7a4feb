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
            var rotation = Rekey(nowMillis);
            if (!rotation.Ok) return rotation;
            sealedDeltas.AddRange(rotation.Deltas);
        }
        var result = AuthorOne(tool, op, [], nowMillis);
        // A rotation authored before a refusal is applied already: it goes back with the refusal, to
        // be committed like any authored delta (dropped, the journal would miss one of this device's
        // sequence numbers: after a restart its later deltas wait for it, and the number is authored again).
        if (!result.Ok) return sealedDeltas.Count == 0 ? result : new AuthorResult(sealedDeltas, result.Rejection);
        sealedDeltas.AddRange(result.Deltas);
        return new AuthorResult(sealedDeltas, null);
    }

    /// <summary>
    /// Authors operations of one command in turn, as <see cref="Author"/> would one by one (each is
    /// decided against the state the ones before it left, so <paramref name="ops"/> may be a lazy
    /// sequence that looks at it), but signs them together: up to 2^<see cref="DeltaTree.MaxDepth"/>
    /// deltas under one signature (<see cref="DeltaTree"/>). A refusal stops there; what was
    /// authored before it is applied and signed, and returned with the refusal.
    /// </summary>
    /// <param name="expected">How many operations <paramref name="ops"/> will likely yield: sizes the trees.</param>
    public AuthorManyResult AuthorMany(ToolId tool, IEnumerable<DeltaOp> ops, int expected, long nowMillis)
    {
        var depth = DeltaTree.DepthFor(expected);
        var deltas = new List<SealedDelta>(Math.Max(expected, 1));
        var authored = new List<DeltaId>(Math.Max(expected, 1));
        var tree = depth == 0 ? null : new List<SealedDelta>(1 << depth);
        try
        {
            foreach (var op in ops)
            {
                if (op is not (Operations.RotateKey or RemoveMember or CreateWorkspace) && State.Current.NeedsRekey)
                {
                    var rotation = Rekey(nowMillis);
                    if (!rotation.Ok) return new AuthorManyResult(deltas, authored, rotation.Rejection);
                    deltas.AddRange(rotation.Deltas);
                }
                var result = AuthorOne(tool, op, [], nowMillis, tree, depth);
                if (!result.Ok) return new AuthorManyResult(deltas, authored, result.Rejection);
                deltas.AddRange(result.Deltas);
                authored.Add(result.Last.Id);
                if (tree?.Count == 1 << depth) SignTree(tree, depth);
            }
            return new AuthorManyResult(deltas, authored, null);
        }
        finally
        {
            // Whatever ends the loop, nothing leaves this replica unsigned.
            if (tree?.Count > 0) SignTree(tree, depth);
        }
    }

    /// <summary>Signs a tree of deltas authored (and applied) unsigned, then lets the chunk store take the file content among them.</summary>
    private void SignTree(List<SealedDelta> tree, int depth)
    {
        // Taken out first: if signing or the store throws, the finally in AuthorMany does not
        // sign or store these again.
        var deltas = tree.ToArray();
        tree.Clear();
        DeltaTree.Sign(deltas, depth, _device.Signing);
        // Kept in memory while unsigned (the store must get the bytes as they will be sent).
        foreach (var d in deltas)
            if (d.Header.Kind == OpKind.StoreChunk && d.Bytes.Length >= StoreChunksFrom && _log.ContainsKey(d.Id))
                _log[d.Id] = LoggedDelta.InStore(d, _chunks.Append(d.Bytes, sendingSoon: true));
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
        return AuthorOne(ToolId.Workspace, new RemoveMember(member), remaining, nowMillis);
    }

    public AuthorResult Rekey(long nowMillis) =>
        AuthorOne(ToolId.Workspace, new Operations.RotateKey(), State.Current.Members.Values.Select(m => m.Card).ToList(), nowMillis);

    /// <summary>
    /// The key grant of an epoch-opening delta: a fresh key for the epoch it opens (the creator's
    /// first key for a new workspace), committed to, and the whole keyring wrapped per recipient.
    /// </summary>
    private (KeyGrant Grant, byte[] Key) GrantNewEpoch(DeltaId opener, IReadOnlyList<ContactCard> recipients, bool genesis)
    {
        var epoch = EpochId.OpenedBy(opener);
        using var ring = new EpochKeyring(Id);
        ring.Import(Keyring.Export());
        var key = genesis ? null : EpochKeyring.NewKey();
        if (key is not null) ring.Add(epoch, key);
        var exported = ring.Export();
        var heldKey = key ?? Keyring.KeyOf(epoch) ?? throw new InvalidOperationException("the creator's first key is missing");
        var wrapped = recipients.OrderBy(c => c.AccountId)
            .Select(c => new WrappedKeyring(c.AccountId, KeyWrap.Wrap(exported, c.AgreementPublicKey, Invitation.KeyContext(Id))))
            .ToList();
        return (new KeyGrant(KeyGrant.Commit(Id, epoch, heldKey), wrapped), heldKey);
    }

    /// <param name="tree">Where the delta goes unsigned, to be signed with others (<see cref="AuthorMany"/>); null to sign it alone.</param>
    private AuthorResult AuthorOne(ToolId tool, DeltaOp op, IReadOnlyList<ContactCard> keyRecipients, long nowMillis, List<SealedDelta>? tree = null,
        int depth = 0)
    {
        var id = new DeltaId(Device, _nextSeq);
        var deps = _heads.Where(h => h.Device != Device).ToList();
        var epoch = op is CreateWorkspace ? EpochId.OpenedBy(id) : State.Current.Epoch;
        KeyGrant? grant = null;
        byte[]? newKey = null;
        if (DeltaHeader.OpensEpoch(op.Kind))
        {
            (grant, newKey) = GrantNewEpoch(id, keyRecipients, op is CreateWorkspace);
        }
        var header = new DeltaHeader(Id, epoch, Account, Device, id.Seq, deps, _clock.Now(nowMillis), tool, op.Kind, grant);
        var past = State.PastOf(header) ?? throw new InvalidOperationException("a head is not applied");
        if (State.Check(header, past, op) is { } reason) return AuthorResult.Refused(reason);
        if (!Keyring.Has(epoch)) return AuthorResult.Refused("this device does not hold the current epoch key");
        // This replica applies the operation as members will decode it, without decrypting its own
        // delta again (a second pass over every chunk of a file). A chunk decodes to itself (its one
        // limit, the size, is a rule); anything else is decoded here, which is small and also finds
        // what no member could decode before it is sealed.
        DeltaOp? applied = op;
        if (op is not StoreChunk && (applied = OpCodec.AsDecoded(op, out var undecodable)) is null) return AuthorResult.Refused(undecodable!);

        var sealedDelta = tree is null
            ? DeltaCrypto.Seal(header, op, Keyring, _device.Signing)
            : DeltaCrypto.SealForTree(header, op, Keyring, depth, tree.Count);
        // In its tree before it is applied: whatever happens from here, it gets signed.
        tree?.Add(sealedDelta);
        if (newKey is not null && op is not CreateWorkspace) Keyring.Add(EpochId.OpenedBy(id), newKey);
        _nextSeq++;
        // Trusted: this replica seals it with its own device key (signed now, or with its tree
        // before AuthorMany returns), so checking the signature (~35 us, a third of a member's
        // verifications with three members writing) proves nothing; every member verifies it.
        var outcome = Receive(sealedDelta, trusted: true, stored: tree is null ? StoreOwn : KeepInMemory, opened: applied);
        if (outcome[0].Status != ReceiveStatus.Applied)
            throw new InvalidOperationException($"own delta not applied: {outcome[0].Status} {outcome[0].Reason}");
        return new AuthorResult([sealedDelta], null);
    }
}

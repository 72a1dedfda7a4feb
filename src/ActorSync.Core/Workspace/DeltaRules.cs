using ActorSync.Core.Causality;
using ActorSync.Core.Deltas;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Tools;

namespace ActorSync.Core.Workspace;

/// <summary>
/// The rules every replica applies to every delta, evaluated against the state in the delta's
/// causal past (never the replica's current state), so that all replicas reach the same verdict
/// whatever order deltas arrive in. Returns null for a valid delta, else the reason.
/// </summary>
internal static class DeltaRules
{
    public static string? Check(WorkspaceState state, DeltaHeader h, VersionVector past, AdminState admin, DeltaOp op)
    {
        if (op is CreateWorkspace create)
        {
            if (admin.Created) return "the workspace already exists in this delta's past";
            if (h.Tool != Identity.ToolId.Workspace) return "membership changes belong to the workspace tool";
            if (create.Creator.AccountId != h.Author) return "the creator's card is not the author's";
            return create.Creator.FindDevice(h.Device) is null ? "the author device is not on the creator's card" : null;
        }
        if (!admin.Created) return "the workspace does not exist in this delta's past";
        if (admin.Deleted) return "the workspace was deleted";
        if (!admin.IsMember(h.Author)) return "the author is not a member";
        if (admin.Members[h.Author].Card.FindDevice(h.Device) is null) return "the device is not one of the author's";
        if (h.Epoch != admin.Epoch) return "stale key epoch";
        if (admin.KindOf(h.Tool) is not { } kind) return $"no tool '{h.Tool}' in this delta's past";
        if (op.IsAdministrative != (kind == ToolKind.Workspace)) return $"a {op.Kind} does not belong to a {kind} tool";
        return op.IsAdministrative ? CheckAdmin(admin, h, op) : CheckTool(state, admin, kind, h, past, op);
    }

    private static string? CheckAdmin(AdminState admin, DeltaHeader h, DeltaOp op)
    {
        var author = h.Author;
        var role = admin.RoleOf(author)!.Value;
        bool Can(Permission p) => admin.Can(author, h.Tool, p);
        switch (op)
        {
            case InviteMember i:
                if (!Can(Permission.Invite)) return "not permitted to invite";
                if (admin.IsMember(i.Card.AccountId)) return "already a member";
                return i.Role > role ? "cannot invite with a role above one's own" : null;
            case RemoveMember rm:
                if (!Can(Permission.Uninvite)) return "not permitted to uninvite";
                if (!admin.IsMember(rm.Member)) return "not a member";
                return RecipientsMatch(h.Keys!.Wrapped, admin.Members.Keys.Where(a => a != rm.Member))
                    ? null : "the new epoch key must be wrapped for exactly the remaining members";
            case ChangeRole cr:
                if (!Can(Permission.ManagePermissions)) return "not permitted to change roles";
                return admin.IsMember(cr.Member) ? null : "not a member";
            case SetToolPermissions sp:
                if (admin.KindOf(sp.Tool) is not { } kind) return $"no tool '{sp.Tool}'";
                if (!Can(Permission.ManagePermissions) && !admin.Can(author, sp.Tool, Permission.ManagePermissions))
                    return "not permitted to change permissions";
                return kind == ToolKind.Workspace && sp.Role == Role.Manager ? "the managers' own workspace permissions are fixed" : null;
            case AddTool at:
                if (!Can(Permission.AddTools)) return "not permitted to add tools";
                return admin.Tools.ContainsKey(at.Tool.Value) || at.Tool == Identity.ToolId.Workspace ? "the tool exists" : null;
            case RemoveTool rt:
                if (!Can(Permission.DeleteTools)) return "not permitted to delete tools";
                return admin.Tools.ContainsKey(rt.Tool.Value) ? null : "no such tool";
            case RotateKey:
                return RecipientsMatch(h.Keys!.Wrapped, admin.Members.Keys) ? null : "the new epoch key must be wrapped for exactly the members";
            case UpdateMemberCard uc:
                if (uc.Card.AccountId != author) return "a member may only update its own card";
                return uc.Card.IssuedAtMillis > admin.Members[author].Card.IssuedAtMillis ? null : "the card is not newer";
            case DeleteWorkspace:
                return Can(Permission.DeleteWorkspace) ? null : "not permitted to delete the workspace";
            default:
                return $"unexpected {op.Kind}";
        }
    }

    private static bool RecipientsMatch(IReadOnlyList<WrappedKeyring> keys, IEnumerable<Identity.AccountId> expected)
    {
        var recipients = keys.Select(k => k.Recipient).ToList();
        return recipients.Distinct().Count() == recipients.Count && recipients.ToHashSet().SetEquals(expected);
    }

    private static string? CheckTool(WorkspaceState state, AdminState admin, ToolKind kind, DeltaHeader h, VersionVector past, DeltaOp op)
    {
        var author = h.Author;
        bool Can(Permission p) => admin.Can(author, h.Tool, p);
        bool CanOwnOrAny(Identity.AccountId owner, Permission own, Permission any) => Can(any) || (owner == author && Can(own));
        switch (op)
        {
            case CreateEntry ce:
                if (!Can(Permission.Create)) return "not permitted to create entries";
                if (EntrySchema.Check(kind, ce.Fields, creating: true) is { } bad) return bad;
                return ce.Fields["replyTo"] is { } reply && !EntryInPast(state, h, past, reply) ? "replyTo is not an entry of this tool" : null;
            case EditEntry ee:
                if (EntrySchema.Check(kind, ee.Fields, creating: false) is { } badEdit) return badEdit;
                if (FindEntry(state, h, past, ee.Entry) is not { } target) return "no such entry in this delta's past";
                return CanOwnOrAny(target.Creator, Permission.EditOwn, Permission.EditAny) ? null : "not permitted to edit this entry";
            case DeleteEntry de:
                if (FindEntry(state, h, past, de.Entry) is not { } victim) return "no such entry in this delta's past";
                return CanOwnOrAny(victim.Creator, Permission.DeleteOwn, Permission.DeleteAny) ? null : "not permitted to delete this entry";
            case PutFile pf:
                if (kind != ToolKind.Files) return "files belong to a files tool";
                if (pf.ContentHash.Length != 32 || pf.Size < 0) return "bad file metadata";
                if (pf.Chunks.Sum(c => (long)c.Size) != pf.Size) return "the chunks do not add up to the size";
                var existing = state.FilesOf(h.Tool)?.LiveHeadsAt(pf.Path, past) ?? [];
                if (existing.Count == 0) return Can(Permission.Create) ? null : "not permitted to add files";
                return existing.All(v => v.Author == author) ? (CanOwnOrAny(author, Permission.EditOwn, Permission.EditAny) ? null : "not permitted to modify files")
                    : Can(Permission.EditAny) ? null : "not permitted to modify others' files";
            case StoreChunk sc:
                if (kind != ToolKind.Files) return "file content belongs to a files tool";
                if (sc.Data.Length > StoreChunk.MaxSize) return "a chunk over the largest size"; // what decoding refuses, so an author's own chunk is judged as members judge it
                return sc.Data.Length == 0 ? "an empty chunk" : Can(Permission.Create) || Can(Permission.EditAny) ? null : "not permitted to add file content";
            case DeleteFile df:
                if (kind != ToolKind.Files) return "files belong to a files tool";
                var live = state.FilesOf(h.Tool)?.LiveHeadsAt(df.Path, past) ?? [];
                if (live.Count == 0) return "no such file in this delta's past";
                return live.All(v => v.Author == author) ? (CanOwnOrAny(author, Permission.DeleteOwn, Permission.DeleteAny) ? null : "not permitted to delete files")
                    : Can(Permission.DeleteAny) ? null : "not permitted to delete others' files";
            default:
                return $"unexpected {op.Kind}";
        }
    }

    private static Entry? FindEntry(WorkspaceState state, DeltaHeader h, VersionVector past, DeltaId id) =>
        past.Contains(id) ? state.EntriesOf(h.Tool)?.Find(id) : null;

    private static bool EntryInPast(WorkspaceState state, DeltaHeader h, VersionVector past, string idText) =>
        DeltaId.TryParse(idText, out var id) && FindEntry(state, h, past, id) is not null;
}

using System.Collections.Immutable;
using ActorSync.Core.Crypto;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;

namespace ActorSync.Core.Workspace;

/// <summary>A member: the card that names its keys and devices, and its role.</summary>
public sealed record Member(ContactCard Card, Role Role)
{
    public AccountId Id => Card.AccountId;
    public string Name => Card.Name;
}

/// <summary>A tool in the workspace.</summary>
public sealed record ToolInfo(ToolId Id, ToolKind Kind, string Name);

/// <summary>
/// Who may do what: members and roles, tools, per-tool permission overrides, the current key
/// epoch and who holds its key. Immutable; <see cref="Apply"/> folds one valid administrative
/// delta. Every replica folds the events of a delta's causal past in (time, id) order, which
/// extends causal order because a delta's time exceeds its dependencies' times.
/// </summary>
public sealed record AdminState(
    bool Created,
    bool Deleted,
    string Name,
    ImmutableSortedDictionary<AccountId, Member> Members,
    ImmutableSortedDictionary<AccountId, ContactCard> FormerMembers,
    ImmutableSortedDictionary<string, ToolInfo> Tools,
    ImmutableSortedDictionary<(string Tool, Role Role), Permission> Overrides,
    EpochId Epoch,
    ImmutableSortedSet<AccountId> EpochRecipients)
{
    /// <summary>The tools every new workspace starts with, named after their kinds.</summary>
    public static readonly ToolKind[] DefaultTools =
        [ToolKind.Discussion, ToolKind.Files, ToolKind.Chat, ToolKind.Calendar, ToolKind.Notepad, ToolKind.Sketchpad, ToolKind.Pictures];

    public static readonly AdminState Empty = new(false, false, "",
        ImmutableSortedDictionary<AccountId, Member>.Empty, ImmutableSortedDictionary<AccountId, ContactCard>.Empty,
        ImmutableSortedDictionary.Create<string, ToolInfo>(StringComparer.Ordinal),
        ImmutableSortedDictionary<(string, Role), Permission>.Empty, default, ImmutableSortedSet<AccountId>.Empty);

    public bool IsMember(AccountId account) => Members.ContainsKey(account);

    public Role? RoleOf(AccountId account) => Members.TryGetValue(account, out var m) ? m.Role : null;

    /// <summary>The card for an author's device keys: current members first, then former ones (so their late deltas verify and are rejected as non-members, not as forgeries).</summary>
    public ContactCard? CardOf(AccountId account) =>
        Members.TryGetValue(account, out var m) ? m.Card : FormerMembers.GetValueOrDefault(account);

    public ToolKind? KindOf(ToolId tool) =>
        tool == ToolId.Workspace ? ToolKind.Workspace : Tools.TryGetValue(tool.Value, out var t) ? t.Kind : null;

    public Permission PermissionsOf(AccountId account, ToolId tool)
    {
        return Members.TryGetValue(account, out var member) ? PermissionsOfRole(tool, member.Role) : Permission.None;
    }

    /// <summary>What a role may do in a tool: the manager's override if any, else the default table.</summary>
    public Permission PermissionsOfRole(ToolId tool, Role role) =>
        KindOf(tool) is not { } kind ? Permission.None
        : Overrides.TryGetValue((tool.Value, role), out var p) ? p : DefaultPermissions.For(kind, role);

    public bool IsOverridden(ToolId tool, Role role) => Overrides.ContainsKey((tool.Value, role));

    public bool Can(AccountId account, ToolId tool, Permission wanted) => (PermissionsOf(account, tool) & wanted) == wanted;

    /// <summary>True when the current epoch key is held by someone who is not a member, or a member lacks it: a rotation is due.</summary>
    public bool NeedsRekey => Created && !Deleted && !HoldersAreMembers();

    // Asked for every delta a member applies and every command an author gives. SetEquals copied
    // the member ids into a new sorted set each time: ~3% of each member's CPU in a 50-member
    // workspace (perf, bench fanout). Both are sorted by the same comparer, so the same ids come in
    // the same order.
    private bool HoldersAreMembers()
    {
        if (EpochRecipients.Count != Members.Count) return false;
        if (!ReferenceEquals(EpochRecipients.KeyComparer, Members.KeyComparer)) return EpochRecipients.SetEquals(Members.Keys);
        using var holders = EpochRecipients.GetEnumerator();
        foreach (var (member, _) in Members)
        {
            if (!holders.MoveNext() || Members.KeyComparer.Compare(holders.Current, member) != 0) return false;
        }
        return true;
    }

    public AdminState Apply(AdminEvent e) => e.Op switch
    {
        CreateWorkspace c => this with
        {
            Created = true,
            Name = c.Name,
            Members = Members.SetItem(c.Creator.AccountId, new Member(c.Creator, Role.Manager)),
            Tools = DefaultTools.Aggregate(Tools, (tools, k) =>
                tools.SetItem(k.ToString().ToLowerInvariant(), new ToolInfo(new ToolId(k.ToString().ToLowerInvariant()), k, k.ToString()))),
            Epoch = EpochId.OpenedBy(e.Meta.Id),
            EpochRecipients = [c.Creator.AccountId],
        },
        InviteMember i => this with
        {
            Members = Members.SetItem(i.Card.AccountId, new Member(i.Card, i.Role)),
            FormerMembers = FormerMembers.Remove(i.Card.AccountId),
            // The invitation carries the keys up to the epoch the invite was sealed in; if a
            // concurrent rotation sorts first, the invitee lacks the current key and a rekey is due.
            EpochRecipients = e.Meta.Epoch == Epoch ? EpochRecipients.Add(i.Card.AccountId) : EpochRecipients,
        },
        RemoveMember rm => this with
        {
            Members = Members.Remove(rm.Member),
            FormerMembers = Members.TryGetValue(rm.Member, out var gone) ? FormerMembers.SetItem(rm.Member, gone.Card) : FormerMembers,
            Epoch = EpochId.OpenedBy(e.Meta.Id),
            EpochRecipients = e.Meta.Keys!.Recipients.ToImmutableSortedSet(),
        },
        ChangeRole cr when Members.TryGetValue(cr.Member, out var m) => this with { Members = Members.SetItem(cr.Member, m with { Role = cr.Role }) },
        ChangeRole => this,
        SetToolPermissions sp => this with { Overrides = Overrides.SetItem((sp.Tool.Value, sp.Role), sp.Permissions) },
        AddTool at => this with { Tools = Tools.SetItem(at.Tool.Value, new ToolInfo(at.Tool, at.ToolKind, at.Name)) },
        RemoveTool rt => this with { Tools = Tools.Remove(rt.Tool.Value) },
        RotateKey => this with
        {
            Epoch = EpochId.OpenedBy(e.Meta.Id),
            EpochRecipients = e.Meta.Keys!.Recipients.ToImmutableSortedSet(),
        },
        UpdateMemberCard uc when Members.TryGetValue(uc.Card.AccountId, out var m) && uc.Card.IssuedAtMillis > m.Card.IssuedAtMillis =>
            this with { Members = Members.SetItem(uc.Card.AccountId, m with { Card = uc.Card }) },
        UpdateMemberCard => this,
        DeleteWorkspace => this with { Deleted = true },
        _ => throw new ArgumentException("not an administrative operation: " + e.Op.Kind, nameof(e)),
    };
}

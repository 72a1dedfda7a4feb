using ActorSync.Core.Causality;

namespace ActorSync.Core.Workspace;

/// <summary>
/// Every valid administrative event, sorted by (time, id), with the fold of all of them cached.
/// <see cref="At"/> answers "what were the rules in this delta's causal past", which is what
/// every replica must check a delta against for all replicas to agree.
/// </summary>
public sealed class AdminHistory
{
    private readonly List<AdminEvent> _events = [];
    private AdminState _current = AdminState.Empty;

    public AdminState Current => _current;
    public IReadOnlyList<AdminEvent> Events => _events;

    public void Add(AdminEvent e)
    {
        var index = _events.Count;
        while (index > 0 && Compare(_events[index - 1], e) > 0) index--;
        _events.Insert(index, e);
        // An event that sorts last extends the fold; a concurrent one that sorts earlier re-folds.
        _current = index == _events.Count - 1 ? _current.Apply(e) : Fold(_events);
    }

    public AdminState At(VersionVector past)
    {
        var all = true;
        foreach (var e in _events)
        {
            if (!past.Contains(e.Meta.Id)) { all = false; break; }
        }
        return all ? _current : Fold(_events.Where(e => past.Contains(e.Meta.Id)));
    }

    /// <summary>Removals of an account, oldest first.</summary>
    public IEnumerable<AdminEvent> RemovalsOf(Identity.AccountId account) =>
        _events.Where(e => e.Op is Operations.RemoveMember r && r.Member == account);

    private static AdminState Fold(IEnumerable<AdminEvent> events) => events.Aggregate(AdminState.Empty, (s, e) => s.Apply(e));

    private static int Compare(AdminEvent a, AdminEvent b)
    {
        var c = a.Meta.Time.CompareTo(b.Meta.Time);
        return c != 0 ? c : a.Meta.Id.CompareTo(b.Meta.Id);
    }
}

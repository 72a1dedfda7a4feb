using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Support;

namespace ActorSync.Core.Tests.Convergence;

/// <summary>
/// A seeded, in-memory network of replicas of one workspace: random commands on every tool,
/// concurrent role changes, uninvites and edits of the same entries, and a delivery layer that
/// reorders, duplicates and loses deltas. Used by the convergence properties.
/// </summary>
internal sealed class RandomNetwork : IDisposable
{
    private static readonly ToolId Discussion = new("discussion");
    private static readonly ToolId Chat = new("chat");
    private static readonly ToolId Notepad = new("notepad");
    private static readonly ToolId Calendar = new("calendar");
    private static readonly ToolId Files = new("files");
    private static readonly string[] Paths = ["a.txt", "docs/b.md", "c"];

    private readonly Random _random;
    private readonly TestWorkspace _ws;
    private readonly List<(string To, SealedDelta Delta)> _inFlight = [];
    private readonly List<string> _names;

    public RandomNetwork(int seed, int members)
    {
        _random = new Random(seed);
        var roles = new List<(string, Role)> { ("m0", Role.Manager) };
        for (var i = 1; i < members; i++) roles.Add(($"m{i}", (Role)_random.Next(1, 4)));
        _ws = TestWorkspace.WithMembers(roles.ToArray());
        _names = roles.Select(r => r.Item1).ToList();
    }

    public IReadOnlyDictionary<string, Replica> Replicas => _ws.Replicas;
    public int Authored { get; private set; }
    public int Lost { get; private set; }

    public void Run(int steps)
    {
        for (var step = 0; step < steps; step++)
        {
            if (_inFlight.Count > 0 && _random.NextDouble() < 0.5) DeliverOne();
            else AuthorOne();
        }
    }

    /// <summary>The network heals: every replica exchanges version vectors with every other until nothing moves; stale keys are rotated.</summary>
    public void HealAndQuiesce()
    {
        foreach (var (to, delta) in _inFlight) _ws.Replicas[to].Receive(delta);
        _inFlight.Clear();
        for (var round = 0; round < 10; round++)
        {
            _ws.SyncAll();
            // Only a member holding the current key can seal the rotation that heals it.
            var stale = ActiveMembers().Where(r => r.State.Current.NeedsRekey && r.Keyring.Has(r.State.Current.Epoch)).ToList();
            if (stale.Count == 0) return;
            // Any member may heal the epoch; pick one at random, as a real network would.
            var healer = stale[_random.Next(stale.Count)];
            healer.Rekey(_ws.Tick());
        }
    }

    /// <summary>Replicas whose account is still a member in their own (converged) view.</summary>
    public List<Replica> ActiveMembers() => _ws.Replicas.Values.Where(r => r.IsMember).ToList();

    private void AuthorOne()
    {
        var name = _names[_random.Next(_names.Count)];
        var replica = _ws[name];
        if (!replica.IsMember) return;
        var now = _ws.Tick();
        var result = _random.Next(14) == 0 && replica.State.Current.Members.Count > 2
            ? replica.Uninvite(replica.State.Current.Members.Keys.ElementAt(_random.Next(replica.State.Current.Members.Count)), now)
            : replica.Author(PickTool(out var op, replica), op, now);
        if (!result.Ok) return;
        foreach (var delta in result.Deltas)
        {
            Authored++;
            foreach (var other in _names.Where(n => n != name))
            {
                var roll = _random.NextDouble();
                if (roll < 0.1) { Lost++; continue; }
                _inFlight.Add((other, delta));
                if (roll > 0.9) _inFlight.Add((other, delta));
            }
        }
    }

    private void DeliverOne()
    {
        var index = _random.Next(_inFlight.Count);
        var (to, delta) = _inFlight[index];
        _inFlight.RemoveAt(index);
        _ws[to].Receive(delta);
    }

    private ToolId PickTool(out DeltaOp op, Replica replica)
    {
        var state = replica.State;
        var members = state.Current.Members.Keys.ToList();
        switch (_random.Next(14))
        {
            case 0:
            case 1:
                op = new CreateEntry(EntryFields.Of(("text", Text())));
                return Discussion;
            case 2:
                op = new CreateEntry(EntryFields.Of(("text", Text())));
                return Chat;
            case 3:
                op = new CreateEntry(EntryFields.Of(("title", Text()), ("start", "2026-12-0" + _random.Next(1, 9) + "T10:00:00Z")));
                return Calendar;
            case 4:
                op = new CreateEntry(EntryFields.Of(("title", Text()), ("text", Text())));
                return Notepad;
            case 5:
            case 6:
                return EditOrDelete(out op, state, edit: true);
            case 7:
                return EditOrDelete(out op, state, edit: false);
            case 8:
            case 9:
                var content = System.Text.Encoding.UTF8.GetBytes(Text());
                op = new PutFile(Paths[_random.Next(Paths.Length)], content.Length, System.Security.Cryptography.SHA256.HashData(content),
                    [new FileChunk(System.Security.Cryptography.SHA256.HashData(content), content.Length)]);
                return Files;
            case 10:
                op = new DeleteFile(Paths[_random.Next(Paths.Length)]);
                return Files;
            case 11:
            case 12:
                op = new ChangeRole(members[_random.Next(members.Count)], (Role)_random.Next(1, 4));
                return ToolId.Workspace;
            default:
                op = new CreateEntry(EntryFields.Of(("text", Text())));
                return Chat;
        }
    }

    private ToolId EditOrDelete(out DeltaOp op, Core.Workspace.WorkspaceState state, bool edit)
    {
        var tool = _random.Next(3) switch { 0 => Discussion, 1 => Notepad, _ => Calendar };
        var entries = state.EntriesOf(tool)?.All.ToList() ?? [];
        if (entries.Count == 0)
        {
            op = new CreateEntry(EntryFields.Of(("text", Text())));
            return Discussion;
        }
        // Few entries and many edits: concurrent edits of one entry are the common case here.
        var target = entries[_random.Next(Math.Min(entries.Count, 3))].Id;
        var field = tool == Discussion ? "text" : "title";
        op = edit ? new EditEntry(target, EntryFields.Of((field, Text()))) : new DeleteEntry(target);
        return tool;
    }

    private string Text() => "t" + _random.Next(1000);

    public void Dispose() => _ws.Dispose();
}

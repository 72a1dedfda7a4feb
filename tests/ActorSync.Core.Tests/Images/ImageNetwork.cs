using System.Security.Cryptography;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;
using ActorSync.Core.Tests.Rules;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Images;

/// <summary>
/// A seeded in-memory network for the image and pruning specs, close to the convergence
/// properties' <c>RandomNetwork</c> but with what those specs need on top: a chunk store per
/// replica (so file content really lives in a store and a local image refers to it), file content
/// both above and below <see cref="Replica.StoreChunksFrom"/>, invites mid-run, rotations, tool
/// permission changes, and two ways to take a replica out of the ordinary traffic:
/// <list type="bullet">
/// <item>an <see cref="Isolated"/> member keeps authoring, but nothing reaches it and what it authors
/// is held back (<see cref="Held"/>): once released, those are late deltas concurrent with
/// everything the others did meanwhile;</item>
/// <item><see cref="Observers"/> author nothing and receive nothing through the network; every delta
/// authored while they observe is recorded in <see cref="Feed"/>, so a spec can hand the same
/// deltas to an observer and to a copy of it, in the same (shuffled, duplicated) order.</item>
/// </list>
/// Choices are made by names and by entry creation times, never by key-derived ids, so a seed
/// picks the same workload on every run.
/// </summary>
internal sealed class ImageNetwork : IDisposable
{
    public static readonly ToolId Discussion = new("discussion");
    public static readonly ToolId Chat = new("chat");
    public static readonly ToolId Notepad = new("notepad");
    public static readonly ToolId Calendar = new("calendar");
    public static readonly ToolId Files = new("files");
    private static readonly string[] Paths = ["a.txt", "docs/b.md", "c", "big.bin"];

    public sealed record Node(string Name, TestMember Member, Replica Replica, CopyableChunkStore Chunks);

    private readonly Random _random;
    private readonly List<Node> _nodes = [];
    private readonly HashSet<string> _external = [];
    private readonly List<(string To, SealedDelta Delta)> _inFlight = [];
    private int _invited;

    public ImageNetwork(int seed, int members)
    {
        _random = new Random(seed);
        var owner = new TestMember("m0");
        var store = new CopyableChunkStore();
        var replica = Replica.Create(WorkspaceId.New(), "images", owner.Account, owner.Device, owner.Card, Now, out _, store);
        _nodes.Add(new Node("m0", owner, replica, store));
        for (var i = 1; i < members; i++) Invite(_nodes[0], $"m{i}", (Role)_random.Next(1, 4), deliverLog: true);
        SyncAll(_nodes);
        // Always some content in the store and some held in memory, whatever the seed does next.
        PutFile(_nodes[0], "big.bin", RandomNumberGenerator.GetBytes(Replica.StoreChunksFrom + 1 + _random.Next(8000)), split: false);
        PutFile(_nodes[0], "a.txt", RandomNumberGenerator.GetBytes(100 + _random.Next(500)));
        SyncAll(_nodes);
    }

    public long Now { get; private set; } = 1_700_000_000_000;
    public long Tick() => Now += 7;

    public Random Random => _random;
    public IReadOnlyList<Node> Nodes => _nodes;
    public Node NodeOf(string name) => _nodes.Single(n => n.Name == name);
    public Replica this[string name] => NodeOf(name).Replica;

    /// <summary>Never uninvited and never given another role by the workload.</summary>
    public HashSet<string> Protected { get; } = [];
    public bool AllowInvites { get; set; } = true;

    public string? Isolated { get; set; }
    public List<SealedDelta> Held { get; } = [];

    public HashSet<string> Observers { get; } = [];
    public List<SealedDelta> Feed { get; } = [];

    /// <summary>Every delta authored so far, in authoring order.</summary>
    public List<SealedDelta> Authored { get; } = [];

    /// <summary>A replica built outside (from an image) joins the traffic under a name; its owner disposes it.</summary>
    public Node Add(string name, TestMember member, Replica replica, CopyableChunkStore chunks)
    {
        var node = new Node(name, member, replica, chunks);
        _nodes.Add(node);
        _external.Add(name);
        return node;
    }

    public void Run(int steps)
    {
        for (var step = 0; step < steps; step++)
        {
            if (_inFlight.Count > 0 && _random.NextDouble() < 0.5) DeliverOne();
            else AuthorOne();
        }
    }

    /// <summary>Held (late) deltas go out to everyone else, and to the feed.</summary>
    public void ReleaseHeld()
    {
        foreach (var delta in Held) Send(delta, from: null);
        Held.Clear();
    }

    private IEnumerable<Node> Traffic => _nodes.Where(n => !Observers.Contains(n.Name) && n.Name != Isolated);

    /// <summary>
    /// Everything in flight is delivered, then anti-entropy into every replica in the traffic (not
    /// observers, not the isolated one) from every replica but the isolated one, until quiet; stale
    /// epochs are rotated.
    /// </summary>
    public void Heal()
    {
        foreach (var (to, delta) in _inFlight)
            if (to != Isolated) NodeOf(to).Replica.Receive(Forge.OverTheWire(delta));
        _inFlight.Clear();
        for (var round = 0; round < 10; round++)
        {
            // Observers serve what they hold (their own earlier deltas may have reached nobody else) but take nothing.
            SyncAll(Traffic.ToList(), _nodes.Where(n => n.Name != Isolated).ToList());
            var stale = Traffic.Where(n => n.Replica.IsMember && n.Replica.State.Current.NeedsRekey
                                           && n.Replica.Keyring.Has(n.Replica.State.Current.Epoch)).ToList();
            if (stale.Count == 0) return;
            var healer = stale[_random.Next(stale.Count)];
            var result = healer.Replica.Rekey(Tick());
            if (result.Ok) foreach (var d in result.Deltas) Record(d);
        }
        throw new InvalidOperationException("the network did not quiesce");
    }

    /// <summary>Anti-entropy into one replica (an observer or a copy of it) from every replica in the traffic, until quiet.</summary>
    public void CatchUp(Replica target)
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var from in Traffic)
            foreach (var d in from.Replica.MissingFrom(target.Seen).ToList())
                changed |= target.Receive(Forge.OverTheWire(d))[0].Status is ReceiveStatus.Applied or ReceiveStatus.Rejected;
        } while (changed);
    }

    /// <summary>The feed, shuffled with some deltas twice, for handing to an observer and its copy alike.</summary>
    public List<SealedDelta> ShuffledFeed()
    {
        var list = new List<SealedDelta>(Feed);
        foreach (var d in Feed)
            if (_random.NextDouble() < 0.2) list.Add(d);
        return [.. list.OrderBy(_ => _random.Next())];
    }

    /// <summary>
    /// The replicas in the traffic whose account is a member in the most advanced view (a replica
    /// whose seen set covers every other's): a removed member that cannot read the epoch of its own
    /// removal still counts itself in, and is not active.
    /// </summary>
    /// <remarks><paramref name="alsoSeenBy"/>: replicas outside the traffic (an observer) that may hold the most advanced view.</remarks>
    public List<Replica> ActiveMembers(params Replica[] alsoSeenBy)
    {
        var replicas = Traffic.Select(n => n.Replica).ToList();
        var views = replicas.Concat(alsoSeenBy).ToList();
        var reference = views.FirstOrDefault(r => views.All(o => r.Seen.Dominates(o.Seen)))
                        ?? throw new InvalidOperationException("no replica has seen everything:\n" + string.Join("\n",
                            Traffic.Select(n => $"{n.Name} {n.Member.Device.Id.Short} member={n.Replica.IsMember} parked={n.Replica.ParkedCount} buffered={n.Replica.BufferedCount} seen={n.Replica.Seen}")));
        return replicas.Where(r => reference.State.Current.IsMember(r.Account)).ToList();
    }

    public static void SyncAll(IReadOnlyList<Node> nodes) => SyncAll(nodes, nodes);

    public static void SyncAll(IReadOnlyList<Node> targets, IReadOnlyList<Node> sources)
    {
        bool changed;
        do
        {
            changed = false;
            foreach (var from in sources)
            foreach (var to in targets)
            {
                if (from == to) continue;
                foreach (var d in from.Replica.MissingFrom(to.Replica.Seen).ToList())
                    changed |= to.Replica.Receive(Forge.OverTheWire(d))[0].Status is ReceiveStatus.Applied or ReceiveStatus.Rejected;
            }
        } while (changed);
    }

    private void AuthorOne()
    {
        var candidates = _nodes.Where(n => !Observers.Contains(n.Name)).ToList();
        var node = candidates[_random.Next(candidates.Count)];
        var replica = node.Replica;
        if (!replica.IsMember) return;
        var roll = _random.Next(40);
        if (roll < 3 && replica.State.Current.Members.Count > 2)
        {
            var victims = MemberNames(replica).Where(n => !Protected.Contains(n)).ToList();
            if (victims.Count == 0) return;
            Record(replica.Uninvite(NodeOf(victims[_random.Next(victims.Count)]).Member.Id, Tick()));
            return;
        }
        if (roll == 3)
        {
            Record(replica.Rekey(Tick()));
            return;
        }
        if (roll == 4 && AllowInvites && _invited < 3)
        {
            Invite(node, $"n{_invited}", (Role)_random.Next(1, 4), deliverLog: false);
            return;
        }
        if (roll is 5 or 6)
        {
            PutFile(node, Paths[_random.Next(Paths.Length)], RandomNumberGenerator.GetBytes(
                _random.Next(4) == 0 ? Replica.StoreChunksFrom + _random.Next(6000) : 1 + _random.Next(1500)));
            return;
        }
        Record(replica.Author(PickTool(out var op, replica), op, Tick()));
    }

    private IEnumerable<string> MemberNames(Replica replica) =>
        _nodes.Where(n => replica.State.Current.IsMember(n.Member.Id)).Select(n => n.Name);

    private void Invite(Node inviter, string name, Role role, bool deliverLog)
    {
        var member = new TestMember(name);
        var result = inviter.Replica.Invite(member.Card, role, Tick(), out var invitation);
        if (!result.Ok)
        {
            member.Dispose();
            return;
        }
        _invited += deliverLog ? 0 : 1;
        var store = new CopyableChunkStore();
        var joined = Replica.Join(invitation!, member.Account, member.Device, store);
        _nodes.Add(new Node(name, member, joined, store));
        if (deliverLog)
        {
            foreach (var d in inviter.Replica.Log) joined.Receive(Forge.OverTheWire(d));
        }
        else
        {
            // The invitee starts from what reaches it: the inviter's log, through a lossy link.
            foreach (var d in inviter.Replica.Log)
                if (_random.NextDouble() < 0.9) _inFlight.Add((name, d));
        }
        Record(result);
    }

    private void PutFile(Node node, string path, byte[] content, bool split = true)
    {
        // One or two chunks.
        var cut = split && content.Length > 1 && _random.Next(3) == 0 ? 1 + _random.Next(content.Length - 1) : content.Length;
        var parts = cut == content.Length ? new[] { content } : [content[..cut], content[cut..]];
        var chunks = new List<FileChunk>();
        foreach (var part in parts)
        {
            var stored = node.Replica.Author(Files, new StoreChunk(part), Tick());
            if (!stored.Ok) return;
            Record(stored);
            chunks.Add(new FileChunk(SHA256.HashData(part), part.Length));
        }
        Record(node.Replica.Author(Files, new PutFile(path, content.Length, SHA256.HashData(content), chunks), Tick()));
    }

    private void Record(AuthorResult result)
    {
        if (!result.Ok) return;
        foreach (var d in result.Deltas) Record(d);
    }

    private void Record(SealedDelta delta)
    {
        Authored.Add(delta);
        var author = _nodes.Single(n => n.Member.Device.Id == delta.Header.Device).Name;
        if (author == Isolated)
        {
            Held.Add(delta);
            return;
        }
        Send(delta, author);
    }

    private void Send(SealedDelta delta, string? from)
    {
        if (Observers.Count > 0)
        {
            Feed.Add(delta);
            if (_random.NextDouble() < 0.1) Feed.Add(delta);
        }
        foreach (var node in _nodes)
        {
            if (node.Name == from || Observers.Contains(node.Name) || node.Member.Device.Id == delta.Header.Device) continue;
            if (node.Name == Isolated) continue; // lost: the isolated member hears nothing
            var roll = _random.NextDouble();
            if (roll < 0.1) continue;
            _inFlight.Add((node.Name, delta));
            if (roll > 0.9) _inFlight.Add((node.Name, delta));
        }
    }

    private void DeliverOne()
    {
        var index = _random.Next(_inFlight.Count);
        var (to, delta) = _inFlight[index];
        _inFlight.RemoveAt(index);
        if (to == Isolated || Observers.Contains(to)) return;
        NodeOf(to).Replica.Receive(Forge.OverTheWire(delta));
    }

    private ToolId PickTool(out DeltaOp op, Replica replica)
    {
        var state = replica.State;
        switch (_random.Next(16))
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
            case 7:
                return EditOrDelete(out op, state, edit: true);
            case 8:
                return EditOrDelete(out op, state, edit: false);
            case 9:
                op = new DeleteFile(Paths[_random.Next(Paths.Length)]);
                return Files;
            case 10:
            case 11:
                var targets = MemberNames(replica).Where(n => !Protected.Contains(n)).ToList();
                if (targets.Count == 0) goto default;
                op = new ChangeRole(NodeOf(targets[_random.Next(targets.Count)]).Member.Id, (Role)_random.Next(1, 4));
                return ToolId.Workspace;
            case 12:
                Permission[] grants = [Permission.View, Permission.View | Permission.Create, Permission.All & ~Permission.DeleteAny];
                op = new SetToolPermissions(_random.Next(2) == 0 ? Discussion : Files, (Role)_random.Next(1, 3), grants[_random.Next(grants.Length)]);
                return ToolId.Workspace;
            default:
                op = new CreateEntry(EntryFields.Of(("text", Text())));
                return Chat;
        }
    }

    private ToolId EditOrDelete(out DeltaOp op, Core.Workspace.WorkspaceState state, bool edit)
    {
        var tool = _random.Next(3) switch { 0 => Discussion, 1 => Notepad, _ => Calendar };
        // By creation time, not by id (ids derive from random keys): the seed decides the target.
        var entries = state.EntriesOf(tool)?.All.OrderBy(e => e.Created).ToList() ?? [];
        if (entries.Count == 0)
        {
            op = new CreateEntry(EntryFields.Of(("text", Text())));
            return Discussion;
        }
        var target = entries[_random.Next(Math.Min(entries.Count, 3))].Id;
        var field = tool == Discussion ? "text" : "title";
        op = edit ? new EditEntry(target, EntryFields.Of((field, Text()))) : new DeleteEntry(target);
        return tool;
    }

    private string Text() => "t" + _random.Next(1000);

    public void Dispose()
    {
        foreach (var n in _nodes.Where(n => !_external.Contains(n.Name)))
        {
            n.Replica.Dispose();
            n.Member.Dispose();
        }
    }
}

/// <summary>A chunk store in memory that can be copied: a replica restored from a local image gets its own copy of the store it refers to.</summary>
internal sealed class CopyableChunkStore : IChunkStore
{
    private readonly List<byte[]> _chunks = [];

    public ChunkLocation Append(byte[] sealedBytes, bool sendingSoon)
    {
        _chunks.Add(sealedBytes);
        return new ChunkLocation(_chunks.Count - 1, sealedBytes.Length);
    }

    public byte[] Read(ChunkLocation at)
    {
        var bytes = _chunks[(int)at.Offset];
        Assert.Equal(at.Length, bytes.Length);
        return bytes;
    }

    public CopyableChunkStore Copy()
    {
        var copy = new CopyableChunkStore();
        copy._chunks.AddRange(_chunks);
        return copy;
    }
}

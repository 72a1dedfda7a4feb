using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Workspace;

namespace ActorSync.Core.Replication;

/// <summary>
/// One device's replica of one workspace: authors sealed deltas from commands, and takes in
/// deltas from anywhere (verify, buffer until causally ready, check against the causal past,
/// apply exactly once). Single-threaded and free of I/O; the workspace actor owns one and
/// persists what it emits.
/// </summary>
public sealed partial class Replica : IDisposable
{
    public const int DefaultBufferCapacity = 100_000;
    private readonly AccountIdentity _account;
    private readonly DeviceIdentity _device;
    private readonly HybridLogicalClock _clock = new();
    private readonly CausalBuffer<List<Candidate>> _buffer;
    private readonly Dictionary<DeltaId, LoggedDelta> _log = [];
    private readonly IChunkStore _chunks;
    private readonly List<DeltaId> _order = [];
    private readonly Dictionary<DeltaId, string> _rejected = [];
    private readonly Dictionary<DeltaId, Candidate> _parked = [];
    private readonly SortedSet<DeltaId> _heads = [];
    private ulong _nextSeq;

    public Replica(WorkspaceId workspace, AccountIdentity account, DeviceIdentity device, EpochKeyring keyring,
        int bufferCapacity = DefaultBufferCapacity, IChunkStore? chunks = null)
        : this(new WorkspaceState(workspace), account, device, keyring, bufferCapacity, chunks)
    {
    }

    private Replica(WorkspaceState state, AccountIdentity account, DeviceIdentity device, EpochKeyring keyring, int bufferCapacity, IChunkStore? chunks)
    {
        _chunks = chunks ?? new MemoryChunkStore();
        _account = account;
        _device = device;
        Keyring = keyring;
        State = state;
        _buffer = new CausalBuffer<List<Candidate>>(bufferCapacity);
        _nextSeq = 1;
    }

    public WorkspaceId Id => State.Id;
    public WorkspaceState State { get; }
    public EpochKeyring Keyring { get; }
    public AccountId Account => _account.Id;
    public DeviceId Device => _device.Id;
    public string Name => _account.Name;

    /// <summary>
    /// Every applied delta, in the order this replica applied it (a causal order). Lazy: file content
    /// is read from the chunk store one delta at a time as the sequence is walked.
    /// </summary>
    public IEnumerable<SealedDelta> Log => _order.Select(id => Load(_log[id]));
    /// <summary>The log as kept: in application order, no content read.</summary>
    public IEnumerable<LoggedDelta> Entries => _order.Select(id => _log[id]);

    public int BufferedCount => _buffer.Count;
    public int ParkedCount => _parked.Count;
    public IReadOnlyDictionary<DeltaId, string> Rejected => _rejected;
    public IEnumerable<DeltaId> Wanted => _buffer.Wanted;
    public IReadOnlyCollection<DeltaId> Heads => _heads;

    /// <summary>Applied plus finally rejected: what other members need not send again.</summary>
    public VersionVector Seen => _rejected.Keys.Aggregate(State.Applied, (vv, id) => vv.With(id));

    public bool IsMember => State.Current.IsMember(_account.Id);

    /// <summary>Deltas this replica holds that a member with <paramref name="theirs"/> lacks, in causal order (anti-entropy).</summary>
    public IEnumerable<SealedDelta> MissingFrom(VersionVector theirs) =>
        _order.Where(id => !theirs.Contains(id)).Select(id => Load(_log[id]));

    /// <summary>How many deltas <see cref="MissingFrom"/> would give, without reading any content.</summary>
    public long CountMissing(VersionVector theirs) => _order.LongCount(id => !theirs.Contains(id));

    /// <summary>An applied delta, its content read from the chunk store if it is there.</summary>
    public SealedDelta? Find(DeltaId id) => _log.TryGetValue(id, out var logged) ? Load(logged) : null;

    /// <summary>An applied delta as the log keeps it (no content read).</summary>
    public LoggedDelta? Logged(DeltaId id) => _log.GetValueOrDefault(id);

    /// <summary>The sealed bytes of a logged delta (read from the chunk store for file content).</summary>
    public byte[] BytesOf(LoggedDelta logged) => logged.HeldBytes ?? _chunks.Read(logged.Stored!.Value);

    public SealedDelta Load(LoggedDelta logged) => logged.InMemory ?? DeltaCodec.Decode(_chunks.Read(logged.Stored!.Value));

    /// <summary>How many deltas the log holds, and the one at a position of its application order (for cursors over the log).</summary>
    public int LogCount => _order.Count;

    public LoggedDelta LogAt(int index) => _log[_order[index]];

    /// <summary>The bytes of a file chunk, decrypted from the delta that stored it; null when it is not here.</summary>
    public byte[]? ReadChunk(ToolId files, byte[] hash)
    {
        if (State.FilesOf(files)?.ChunkDelta(hash) is not { } id || Find(id) is not { } delta) return null;
        return DeltaCrypto.TryDecrypt(delta, Keyring, out var op) == OpenFailure.None && op is StoreChunk chunk ? chunk.Data : null;
    }

    /// <summary>Starts a new workspace with this device as its first manager.</summary>
    public static Replica Create(string name, AccountIdentity account, DeviceIdentity device, ContactCard card, long nowMillis,
        out SealedDelta genesis) => Create(WorkspaceId.New(), name, account, device, card, nowMillis, out genesis);

    /// <summary>As above, under an id the caller chose (an actor's name and persistence id are fixed before it starts).</summary>
    public static Replica Create(WorkspaceId workspace, string name, AccountIdentity account, DeviceIdentity device, ContactCard card,
        long nowMillis, out SealedDelta genesis, IChunkStore? chunks = null)
    {
        var replica = new Replica(workspace, account, device, new EpochKeyring(workspace), chunks: chunks);
        var first = new DeltaId(device.Id, 1);
        replica.Keyring.Add(EpochId.OpenedBy(first), EpochKeyring.NewKey());
        var result = replica.Author(ToolId.Workspace, new CreateWorkspace(name, card), nowMillis);
        if (!result.Ok) throw new InvalidOperationException("could not create the workspace: " + result.Rejection);
        genesis = result.Last;
        return replica;
    }

    /// <summary>A replica for an accepted invitation: empty until the workspace's deltas arrive.</summary>
    public static Replica Join(Invitation invitation, AccountIdentity account, DeviceIdentity device, IChunkStore? chunks = null)
    {
        var replica = new Replica(invitation.Workspace, account, device, new EpochKeyring(invitation.Workspace), chunks: chunks);
        replica.Keyring.Import(KeyWrap.Unwrap(invitation.WrappedKeyring, account.Agreement, Invitation.KeyContext(invitation.Workspace)));
        return replica;
    }

    public void Dispose() => Keyring.Dispose();
}

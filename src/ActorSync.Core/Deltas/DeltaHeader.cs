using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Deltas;

/// <summary>
/// The cleartext part of a delta: enough for any member or relay to route, order and check it
/// without the key. It is authenticated twice: as AEAD associated data and under the signature.
/// </summary>
public sealed record DeltaHeader(
    WorkspaceId Workspace,
    EpochId Epoch,
    AccountId Author,
    DeviceId Device,
    ulong Seq,
    IReadOnlyList<DeltaId> Dependencies,
    HlcTimestamp Time,
    ToolId Tool,
    OpKind Kind,
    KeyGrant? Keys = null)
{
    /// <summary>Only deltas that open an epoch carry key material.</summary>
    public static bool OpensEpoch(OpKind kind) => kind is OpKind.CreateWorkspace or OpKind.RemoveMember or OpKind.RotateKey;

    public DeltaId Id => new(Device, Seq);

    /// <summary>The implicit dependency on the author's previous delta (none for its first).</summary>
    public DeltaId? Previous => Seq > 1 ? new DeltaId(Device, Seq - 1) : null;

    /// <summary>Every delta this one waits for: the author's previous one and the listed heads.</summary>
    public IEnumerable<DeltaId> AllDependencies => Previous is { } p ? Dependencies.Prepend(p) : Dependencies;
}

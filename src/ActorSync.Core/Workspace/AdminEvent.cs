using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Workspace;

/// <summary>What an applied delta contributes to a state fold: its id, author, time and operation.</summary>
public sealed record DeltaMeta(DeltaId Id, AccountId Author, HlcTimestamp Time, ToolId Tool, VersionVector Past, Crypto.EpochId Epoch,
    Crypto.KeyGrant? Keys = null);

/// <summary>A valid administrative delta, kept so permissions can be evaluated at any causal past.</summary>
public sealed record AdminEvent(DeltaMeta Meta, DeltaOp Op);

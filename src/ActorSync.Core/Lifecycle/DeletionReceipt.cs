using ActorSync.Core.Causality;
using ActorSync.Core.Identity;

namespace ActorSync.Core.Lifecycle;

/// <summary>
/// What a removed member's device signs once it has deleted its copy of a workspace: which removal
/// it obeyed and when. It travels outside the workspace's deltas (the device is no longer a member
/// and could not author one) and members keep it to show in `ws show`.
/// </summary>
public sealed record DeletionReceipt(WorkspaceId Workspace, AccountId Account, DeviceId Device, DeltaId Removal, long DeletedAtMillis);

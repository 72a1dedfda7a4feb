namespace ActorSync.Core.Backup;

/// <summary>What an encrypted backup file holds; recorded in its header so one kind is never restored as the other.</summary>
public enum BackupKind : byte
{
    /// <summary>A workspace export: its keyring and sealed deltas (<see cref="WorkspaceBundle"/>).</summary>
    Workspace = 1,

    /// <summary>An account backup: the identity files of a home (<see cref="AccountBundle"/>).</summary>
    Account = 2,
}

namespace ActorSync.Core.Backup;

/// <summary>
/// A backup file that cannot be read: not a backup at all, a version or kind this program does not
/// take, or one that fails authentication. The message is for the user and never holds the
/// passphrase, a key or content.
/// </summary>
public sealed class BackupFormatException : Exception
{
    /// <summary>
    /// One message for every authentication failure: AES-GCM cannot tell a wrong passphrase from a
    /// changed byte, and saying which segment failed would help nobody.
    /// </summary>
    public const string WrongPassphraseOrDamaged = "wrong passphrase or damaged file";

    public BackupFormatException(string message) : base(message) { }
}

using ActorSync.Core.Causality;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;

namespace ActorSync.Core.Operations;

/// <summary>The kind byte of a delta header; it must match the encrypted payload's operation.</summary>
public enum OpKind : byte
{
    CreateWorkspace = 1,
    InviteMember = 2,
    RemoveMember = 3,
    ChangeRole = 4,
    SetToolPermissions = 5,
    AddTool = 6,
    RemoveTool = 7,
    RotateKey = 8,
    UpdateMemberCard = 9,
    DeleteWorkspace = 10,
    CreateEntry = 20,
    EditEntry = 21,
    DeleteEntry = 22,
    PutFile = 30,
    DeleteFile = 31,
    StoreChunk = 32,
}

/// <summary>
/// The content of a delta: what its author did. Immutable records; the encrypted payload of a
/// sealed delta is exactly one of these (see <see cref="OpCodec"/>).
/// </summary>
public abstract record DeltaOp
{
    public abstract OpKind Kind { get; }

    /// <summary>Membership, roles, tools, permissions, keys: the operations that change who may do what.</summary>
    public bool IsAdministrative => Kind < OpKind.CreateEntry;
}

/// <summary>A new epoch key (and every older one the author holds), wrapped for one member; carried in a <see cref="Crypto.KeyGrant"/>.</summary>
public sealed record WrappedKeyring(AccountId Recipient, byte[] Wrapped);

public sealed record CreateWorkspace(string Name, ContactCard Creator) : DeltaOp
{
    public override OpKind Kind => OpKind.CreateWorkspace;
}

public sealed record InviteMember(ContactCard Card, Role Role) : DeltaOp
{
    public override OpKind Kind => OpKind.InviteMember;
}

/// <summary>Uninvite: removes the member and opens a new key epoch (its header's key grant) wrapped only for those who remain.</summary>
public sealed record RemoveMember(AccountId Member) : DeltaOp
{
    public override OpKind Kind => OpKind.RemoveMember;
}

public sealed record ChangeRole(AccountId Member, Role Role) : DeltaOp
{
    public override OpKind Kind => OpKind.ChangeRole;
}

public sealed record SetToolPermissions(ToolId Tool, Role Role, Permission Permissions) : DeltaOp
{
    public override OpKind Kind => OpKind.SetToolPermissions;
}

public sealed record AddTool(ToolId Tool, ToolKind ToolKind, string Name) : DeltaOp
{
    public override OpKind Kind => OpKind.AddTool;
}

public sealed record RemoveTool(ToolId Tool) : DeltaOp
{
    public override OpKind Kind => OpKind.RemoveTool;
}

/// <summary>Opens a new key epoch (its header's key grant) for the current members; heals after concurrent membership changes.</summary>
public sealed record RotateKey : DeltaOp
{
    public override OpKind Kind => OpKind.RotateKey;
}

/// <summary>A member publishes a newer card of its own (a new device, new relays).</summary>
public sealed record UpdateMemberCard(ContactCard Card) : DeltaOp
{
    public override OpKind Kind => OpKind.UpdateMemberCard;
}

public sealed record DeleteWorkspace : DeltaOp
{
    public override OpKind Kind => OpKind.DeleteWorkspace;
}

/// <summary>A new entry of an entry tool (discussion, calendar, notepad, sketchpad, pictures, chat); its id is the delta's id.</summary>
public sealed record CreateEntry(EntryFields Fields) : DeltaOp
{
    public override OpKind Kind => OpKind.CreateEntry;
}

/// <summary>Sets some fields of an entry; each field resolves last-writer-wins by (hybrid time, author).</summary>
public sealed record EditEntry(DeltaId Entry, EntryFields Fields) : DeltaOp
{
    public override OpKind Kind => OpKind.EditEntry;
}

public sealed record DeleteEntry(DeltaId Entry) : DeltaOp
{
    public override OpKind Kind => OpKind.DeleteEntry;
}

/// <summary>A new version of the file at a path: its metadata and chunk list (content travels separately).</summary>
public sealed record PutFile(string Path, long Size, byte[] ContentHash, IReadOnlyList<FileChunk> Chunks) : DeltaOp
{
    public override OpKind Kind => OpKind.PutFile;
}

public sealed record DeleteFile(string Path) : DeltaOp
{
    public override OpKind Kind => OpKind.DeleteFile;
}

/// <summary>
/// File content: one chunk, encrypted and signed like every delta and synced by the same
/// anti-entropy. Versions refer to chunks by hash, so an unchanged chunk is never sent twice.
/// </summary>
public sealed record StoreChunk(byte[] Data) : DeltaOp
{
    public const int MaxSize = 1024 * 1024;
    private byte[]? _hash;

    public override OpKind Kind => OpKind.StoreChunk;

    /// <summary>
    /// SHA-256 of <see cref="Data"/>, the name versions give the chunk; computed once per chunk
    /// object (the author looks a chunk up by it before authoring and the state indexes it on apply).
    /// </summary>
    public byte[] Hash => _hash ??= System.Security.Cryptography.SHA256.HashData(Data);

    // A copy (`with`) may name other data: it does not inherit the hash remembered for this one.
    private StoreChunk(StoreChunk original) : base(original) => Data = original.Data;

    // By content, as the record would compare were it not for the remembered hash.
    public bool Equals(StoreChunk? other) => other is not null && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Data.Length);
        hash.AddBytes(Data.AsSpan(0, Math.Min(Data.Length, 32)));
        return hash.ToHashCode();
    }
}

/// <summary>One content-addressed chunk of a file version.</summary>
public sealed record FileChunk(byte[] Hash, int Size);

using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;

namespace ActorSync.Core.Operations;

/// <summary>
/// Binary encoding of <see cref="DeltaOp"/>: the plaintext inside a delta's AEAD. Decoding is
/// strict (caps before allocation, no trailing bytes) because a member's device may be hostile.
/// </summary>
public static class OpCodec
{
    public const int MaxNameBytes = 256;
    public const int MaxPathBytes = 1024;
    public const int MaxChunks = 100_000;

    public static byte[] Encode(DeltaOp op)
    {
        var w = new WireWriter(128);
        Write(op, w);
        return w.ToArray();
    }

    /// <summary>
    /// The operation as every member will decode it from its delta, or why none can: an operation
    /// past a decoding limit (an entry value over its cap, a path over its UTF-8 byte cap) must be
    /// refused to its author, not applied by it alone.
    /// </summary>
    public static DeltaOp? AsDecoded(DeltaOp op, out string? refusal)
    {
        refusal = null;
        var bytes = Encode(op);
        try
        {
            return Decode(bytes);
        }
        catch (WireFormatException e)
        {
            refusal = "the change cannot be sent: " + e.Message;
            return null;
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>How many bytes <see cref="Encode(StoreChunk, Span{byte})"/> writes: the same bytes <see cref="Encode(DeltaOp)"/> gives.</summary>
    public static int EncodedSize(StoreChunk chunk) => 1 + WireWriter.VarUIntSize((ulong)chunk.Data.Length) + chunk.Data.Length;

    /// <summary>Writes a chunk's encoding into a span of exactly <see cref="EncodedSize"/> bytes, without an intermediate buffer.</summary>
    public static void Encode(StoreChunk chunk, Span<byte> destination)
    {
        if (destination.Length != EncodedSize(chunk)) throw new ArgumentException("the destination is not the chunk's encoded size", nameof(destination));
        destination[0] = (byte)OpKind.StoreChunk;
        var at = 1 + WireWriter.WriteVarUInt(destination[1..], (ulong)chunk.Data.Length);
        chunk.Data.CopyTo(destination[at..]);
    }

    public static void Write(DeltaOp op, WireWriter w)
    {
        w.Byte((byte)op.Kind);
        switch (op)
        {
            case CreateWorkspace c: w.String(c.Name); w.Bytes(c.Creator.Encoded); break;
            case InviteMember i: w.Bytes(i.Card.Encoded); w.Byte((byte)i.Role); break;
            case RemoveMember rm: WriteAccount(w, rm.Member); break;
            case ChangeRole cr: WriteAccount(w, cr.Member); w.Byte((byte)cr.Role); break;
            case SetToolPermissions sp: w.String(sp.Tool.Value); w.Byte((byte)sp.Role); w.VarUInt((uint)sp.Permissions); break;
            case AddTool at: w.String(at.Tool.Value); w.Byte((byte)at.ToolKind); w.String(at.Name); break;
            case RemoveTool rt: w.String(rt.Tool.Value); break;
            case RotateKey: break;
            case UpdateMemberCard uc: w.Bytes(uc.Card.Encoded); break;
            case DeleteWorkspace: break;
            case CreateEntry ce: ce.Fields.Write(w); break;
            case EditEntry ee: ee.Entry.Write(w); ee.Fields.Write(w); break;
            case DeleteEntry de: de.Entry.Write(w); break;
            case PutFile pf:
                w.String(pf.Path);
                w.VarUInt((ulong)pf.Size);
                w.Raw(pf.ContentHash);
                w.VarUInt((ulong)pf.Chunks.Count);
                foreach (var chunk in pf.Chunks)
                {
                    w.Raw(chunk.Hash);
                    w.VarUInt((ulong)chunk.Size);
                }
                break;
            case DeleteFile df: w.String(df.Path); break;
            case StoreChunk sc: w.Bytes(sc.Data); break;
            default: throw new ArgumentException("unknown operation " + op.GetType().Name, nameof(op));
        }
    }

    public static DeltaOp Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new WireReader(bytes);
        var kind = (OpKind)r.Byte("operation kind");
        DeltaOp op = kind switch
        {
            OpKind.CreateWorkspace => new CreateWorkspace(Name(ref r), Card(ref r)),
            OpKind.InviteMember => new InviteMember(Card(ref r), ReadRole(ref r)),
            OpKind.RemoveMember => new RemoveMember(ReadAccount(ref r)),
            OpKind.ChangeRole => new ChangeRole(ReadAccount(ref r), ReadRole(ref r)),
            OpKind.SetToolPermissions => new SetToolPermissions(Tool(ref r), ReadRole(ref r), ReadPermission(ref r)),
            OpKind.AddTool => new AddTool(Tool(ref r), ReadToolKind(ref r), Name(ref r)),
            OpKind.RemoveTool => new RemoveTool(Tool(ref r)),
            OpKind.RotateKey => new RotateKey(),
            OpKind.UpdateMemberCard => new UpdateMemberCard(Card(ref r)),
            OpKind.DeleteWorkspace => new DeleteWorkspace(),
            OpKind.CreateEntry => new CreateEntry(EntryFields.Read(ref r)),
            OpKind.EditEntry => new EditEntry(DeltaId.Read(ref r), EntryFields.Read(ref r)),
            OpKind.DeleteEntry => new DeleteEntry(DeltaId.Read(ref r)),
            OpKind.PutFile => ReadPutFile(ref r),
            OpKind.DeleteFile => new DeleteFile(Path(ref r)),
            OpKind.StoreChunk => new StoreChunk(r.Bytes(StoreChunk.MaxSize, "chunk").ToArray()),
            _ => throw new WireFormatException($"operation: unknown kind {(byte)kind}"),
        };
        r.ExpectEnd("operation");
        return op;
    }

    private static string Name(ref WireReader r) => r.String(MaxNameBytes, "name");

    private static string Path(ref WireReader r)
    {
        var path = r.String(MaxPathBytes, "file path");
        if (!FilePaths.IsValid(path)) throw new WireFormatException("file path: not a valid relative path");
        return path;
    }

    private static ContactCard Card(ref WireReader r) => ContactCard.Decode(r.Bytes(ContactCard.MaxEncodedSize, "contact card"));

    private static ToolId Tool(ref WireReader r)
    {
        var text = r.String(ToolId.MaxLength, "tool id");
        return ToolId.IsValid(text) ? new ToolId(text) : throw new WireFormatException("tool id: invalid characters");
    }

    private static Role ReadRole(ref WireReader r)
    {
        var role = (Role)r.Byte("role");
        return Enum.IsDefined(role) ? role : throw new WireFormatException("role: unknown");
    }

    private static ToolKind ReadToolKind(ref WireReader r)
    {
        var kind = (ToolKind)r.Byte("tool kind");
        return Enum.IsDefined(kind) && kind != ToolKind.Workspace ? kind : throw new WireFormatException("tool kind: unknown");
    }

    private static Permission ReadPermission(ref WireReader r)
    {
        var value = r.VarUInt("permissions");
        return value <= (ulong)Permission.All ? (Permission)value : throw new WireFormatException("permissions: unknown bits");
    }

    private static void WriteAccount(WireWriter w, AccountId id)
    {
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        id.Value.WriteTo(raw);
        w.Raw(raw);
    }

    private static AccountId ReadAccount(ref WireReader r) => new(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "account id")));

    private static PutFile ReadPutFile(ref WireReader r)
    {
        var path = Path(ref r);
        var size = r.VarUInt("file size");
        if (size > long.MaxValue) throw new WireFormatException("file size: too large");
        var hash = r.Raw(32, "content hash").ToArray();
        var count = r.Count(MaxChunks, "chunks");
        var chunks = new List<FileChunk>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++)
        {
            var chunkHash = r.Raw(32, "chunk hash").ToArray();
            var chunkSize = r.VarUInt("chunk size");
            if (chunkSize > int.MaxValue) throw new WireFormatException("chunk size: too large");
            chunks.Add(new FileChunk(chunkHash, (int)chunkSize));
        }
        return new PutFile(path, (long)size, hash, chunks);
    }
}

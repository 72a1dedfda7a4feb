using ActorSync.Core.Causality;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Deltas;

/// <summary>
/// The binary envelope. Layout: version | header | nonce (12) | ciphertext+tag (length-prefixed) |
/// [proof] | Ed25519 signature (64). Version 1, a delta signed alone: no proof, the signature is
/// over everything before it. Version 2, a delta signed with others: the proof of
/// <see cref="DeltaTree"/> (depth 1 to <see cref="DeltaTree.MaxDepth"/>, index, siblings), and the
/// signature is over the tree's root. Decoding parses and bounds-checks only; signature and
/// decryption are <see cref="DeltaCrypto"/>'s job.
/// </summary>
public static class DeltaCodec
{
    public const byte FormatVersion = 1;
    public const byte TreeFormatVersion = 2;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int MaxDependencies = 256;
    public const int MaxPayloadSize = 4 * 1024 * 1024;
    public const int MaxDeltaSize = MaxPayloadSize + 4096;

    internal static void WriteHeader(WireWriter w, DeltaHeader h, byte version = FormatVersion)
    {
        if (h.Dependencies.Count > MaxDependencies) throw new ArgumentException("too many dependencies", nameof(h));
        if (h.Seq == 0) throw new ArgumentException("sequence numbers start at 1", nameof(h));
        w.Byte(version);
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        Span<byte> ws = stackalloc byte[WorkspaceId.Size];
        h.Workspace.WriteTo(ws);
        w.Raw(ws);
        h.Epoch.Write(w);
        h.Author.Value.WriteTo(raw);
        w.Raw(raw);
        h.Device.Value.WriteTo(raw);
        w.Raw(raw);
        w.VarUInt(h.Seq);
        w.VarUInt((ulong)h.Dependencies.Count);
        foreach (var d in h.Dependencies) d.Write(w);
        w.UInt64Fixed(h.Time.Packed);
        w.String(h.Tool.Value);
        w.Byte((byte)h.Kind);
        if (DeltaHeader.OpensEpoch(h.Kind) != h.Keys is not null) throw new ArgumentException("key grants go with epoch-opening deltas only", nameof(h));
        h.Keys?.Write(w);
    }

    /// <summary>Parses an envelope from untrusted bytes; throws only <see cref="WireFormatException"/>.</summary>
    public static SealedDelta Decode(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length > MaxDeltaSize) throw new WireFormatException($"delta: {bytes.Length} bytes exceeds the limit of {MaxDeltaSize}");
        var r = new WireReader(bytes);
        var header = ReadHeader(ref r);
        var headerEnd = r.Position;
        r.Raw(NonceSize, "nonce");
        var ctLength = r.Count(MaxPayloadSize + TagSize, "ciphertext");
        if (ctLength < TagSize) throw new WireFormatException("ciphertext: shorter than its tag");
        var ctStart = r.Position;
        r.Raw(ctLength, "ciphertext");
        var proofStart = r.Position;
        if (bytes[0] == TreeFormatVersion)
        {
            var depth = r.Byte("tree depth");
            if (depth is < 1 or > DeltaTree.MaxDepth) throw new WireFormatException($"delta: tree depth {depth} (1 to {DeltaTree.MaxDepth})");
            var index = r.Raw(2, "tree index");
            if ((index[0] << 8 | index[1]) >= 1 << depth) throw new WireFormatException("delta: tree index beyond its depth");
            r.Raw(depth * DeltaTree.HashSize, "tree proof");
        }
        r.Raw(Signing.SignatureSize, "signature");
        r.ExpectEnd("delta");
        return new SealedDelta(header, bytes, headerEnd, ctStart, ctLength, proofStart);
    }

    /// <summary>The header of an envelope, without what follows it (an image keeps only the header of a delta whose bytes are in the chunk store).</summary>
    internal static DeltaHeader ReadHeader(ref WireReader r)
    {
        var version = r.Byte("delta version");
        if (version is not (FormatVersion or TreeFormatVersion)) throw new WireFormatException($"delta: unknown format version {version}");
        var workspace = WorkspaceId.FromBytes(r.Raw(WorkspaceId.Size, "workspace id"));
        var epoch = EpochId.Read(ref r);
        var author = new AccountId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "author")));
        var device = new DeviceId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "device")));
        var seq = r.VarUInt("seq");
        if (seq == 0) throw new WireFormatException("delta: sequence numbers start at 1");
        var depCount = r.Count(MaxDependencies, "dependencies");
        var deps = new DeltaId[depCount];
        for (var i = 0; i < depCount; i++)
        {
            deps[i] = DeltaId.Read(ref r);
            if (i > 0 && deps[i - 1].CompareTo(deps[i]) >= 0) throw new WireFormatException("dependencies: not strictly sorted");
        }
        var time = new HlcTimestamp(r.UInt64Fixed("time"));
        var toolText = r.String(ToolId.MaxLength, "tool");
        if (!ToolId.IsValid(toolText)) throw new WireFormatException("tool id: invalid characters");
        var kind = (OpKind)r.Byte("kind");
        if (!Enum.IsDefined(kind)) throw new WireFormatException($"delta: unknown kind {(byte)kind}");
        var keys = DeltaHeader.OpensEpoch(kind) ? KeyGrant.Read(ref r) : null;
        return new DeltaHeader(workspace, epoch, author, device, seq, deps, time, new ToolId(toolText), kind, keys);
    }
}

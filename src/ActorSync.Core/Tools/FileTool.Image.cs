using ActorSync.Core.Causality;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;

namespace ActorSync.Core.Tools;

public sealed partial class FileTool
{
    internal void WriteImage(WireWriter w)
    {
        Span<byte> raw = stackalloc byte[Fingerprint.Size];
        w.VarUInt((ulong)_versions.Count);
        foreach (var (path, versions) in _versions)
        {
            w.String(path);
            w.VarUInt((ulong)versions.Count);
            foreach (var v in versions)
            {
                v.Id.Write(w);
                v.Author.Value.WriteTo(raw);
                w.Raw(raw);
                w.String(v.AuthorName);
                w.UInt64Fixed(v.Time.Packed);
                w.Bool(v.Deleted);
                w.VarUInt((ulong)v.Size);
                w.Bytes(v.ContentHash);
                w.VarUInt((ulong)v.Chunks.Count);
                foreach (var c in v.Chunks)
                {
                    w.Bytes(c.Hash);
                    w.VarUInt((ulong)c.Size);
                }
                w.VarUInt((ulong)v.Version);
                v.Past.Write(w);
            }
            var heads = _heads.TryGetValue(path, out var h) ? h : [];
            w.VarUInt((ulong)heads.Count);
            foreach (var head in heads) head.Id.Write(w);
        }
        w.VarUInt((ulong)_chunks.Count);
        foreach (var (hash, id) in _chunks.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            w.Bytes(Convert.FromHexString(hash));
            id.Write(w);
        }
    }

    internal static FileTool ReadImage(ref WireReader r)
    {
        var tool = new FileTool();
        var paths = r.Count(ImageLimits.MaxItems, "file paths");
        for (var p = 0; p < paths; p++)
        {
            var path = r.String(OpCodec.MaxPathBytes, "file path");
            var count = r.Count(ImageLimits.MaxItems, "file versions");
            var versions = new List<FileVersion>(Math.Min(count, 1024));
            for (var i = 0; i < count; i++)
            {
                var id = DeltaId.Read(ref r);
                var author = new AccountId(Fingerprint.FromBytes(r.Raw(Fingerprint.Size, "file author")));
                var name = r.String(OpCodec.MaxNameBytes, "author name");
                var time = new HlcTimestamp(r.UInt64Fixed("file time"));
                var deleted = r.Bool("file deleted");
                var size = (long)r.VarUInt("file size");
                var hash = r.Bytes(64, "content hash").ToArray();
                var chunkCount = r.Count(OpCodec.MaxChunks, "file chunks");
                var chunks = new FileChunk[chunkCount];
                for (var c = 0; c < chunkCount; c++) chunks[c] = new FileChunk(r.Bytes(64, "chunk hash").ToArray(), (int)r.VarUInt("chunk size"));
                var version = (int)r.VarUInt("file version");
                versions.Add(new FileVersion(id, author, name, time, path, deleted, size, hash, chunks, version, VersionVector.Read(ref r)));
            }
            tool._versions[path] = versions;
            var headCount = r.Count(count, "file heads");
            var heads = new List<FileVersion>(headCount);
            for (var i = 0; i < headCount; i++)
            {
                var id = DeltaId.Read(ref r);
                heads.Add(versions.Find(v => v.Id == id) ?? throw new WireFormatException("file head: not one of the path's versions"));
            }
            if (headCount > 0) tool._heads[path] = heads;
        }
        var chunkIds = r.Count(ImageLimits.MaxItems, "chunk index");
        for (var i = 0; i < chunkIds; i++)
        {
            var hash = Convert.ToHexStringLower(r.Bytes(64, "chunk hash"));
            tool._chunks[hash] = DeltaId.Read(ref r);
        }
        return tool;
    }
}

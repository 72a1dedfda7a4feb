using System.Security.Cryptography;
using Akka.Actor;
using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Tools;
using static ActorSync.Peer.Actors.Workspaces.FileTransferProtocol;
using static ActorSync.Peer.Actors.Workspaces.WorkspaceProtocol;

namespace ActorSync.Peer.Actors.Workspaces;

/// <summary>
/// The files tool's content: uploads arrive chunk window by chunk window (cut by content, so a
/// changed file authors only the chunks it does not share with what the workspace holds), and
/// downloads leave the same way. Nothing here holds a whole file except the small-file
/// <see cref="PutFileContent"/> / <see cref="GetFileContent"/> pair kept for callers with bytes in hand.
/// </summary>
public sealed partial class WorkspaceActor
{
    private bool OnFiles(object message)
    {
        switch (message)
        {
            case BeginUpload begin:
                Sender.Tell(CheckUpload(begin.Name, out _) is { } refused ? refused : UploadAccepted.Instance);
                return true;
            case UploadChunks upload:
                StoreChunks(upload.Chunks);
                return true;
            case FinishUpload finish:
                FinishFile(finish);
                return true;
            case OpenDownload open:
                Sender.Tell(Manifest(open.Name));
                return true;
            case ReadChunks read:
                Sender.Tell(ReadChunkData(read.Hashes));
                return true;
            case GetLogSize:
                Sender.Tell(LogSizeNow());
                return true;
            default:
                return false;
        }
    }

    /// <summary>Refuses what cannot succeed before any content is sent: a bad name, no files tool, no right to add content.</summary>
    private Refused? CheckUpload(string? name, out ToolId tool)
    {
        tool = default;
        if (name is not null && !FilePaths.IsValid(name)) return new Refused("not a valid file name (relative path, no '..')");
        if (_replica!.State.DefaultTool(ToolKind.Files) is not { } files) return new Refused("the workspace has no files tool", 404);
        tool = files;
        var admin = _replica.State.Current;
        if (!admin.IsMember(_replica.Account)) return new Refused("not a member of this workspace", 403);
        // The rule StoreChunk deltas are checked against (DeltaRules); whether this member may
        // change this particular file is decided by the PutFile at the end, as at every replica.
        return admin.Can(_replica.Account, files, Permission.Create) || admin.Can(_replica.Account, files, Permission.EditAny)
            ? null : new Refused("not permitted to add files in this workspace", 403);
    }

    private void StoreChunks(IReadOnlyList<StoreChunk> chunks)
    {
        if ((CheckUpload(name: null, out var tool) ?? CheckChunks(chunks)) is { } refused)
        {
            Sender.Tell(refused);
            return;
        }
        var deltas = AuthorChunks(tool, chunks, out var rejection);
        CommitDeltas(deltas, rejection is null ? new ChunksStored(deltas.Count, deltas.Sum(d => (long)d.Bytes.Length)) : new Refused(rejection));
    }

    private static Refused? CheckChunks(IReadOnlyList<StoreChunk> chunks) =>
        chunks.FirstOrDefault(c => c.Data.Length is 0 or > StoreChunk.MaxSize) is { } bad
            ? new Refused($"a chunk of {bad.Data.Length} bytes (1 to {StoreChunk.MaxSize})") : null;

    /// <summary>Authors a StoreChunk per chunk the workspace does not hold yet, signed together.</summary>
    private List<SealedDelta> AuthorChunks(ToolId tool, IReadOnlyList<StoreChunk> chunks, out string? rejection)
    {
        var stored = _replica!.AuthorMany(tool, FreshChunks(tool, chunks), chunks.Count, _peer.NowMillis);
        rejection = stored.Rejection;
        return [.. stored.Deltas];
    }

    /// <summary>
    /// The chunks the workspace does not hold yet, decided as they are authored (the sequence is
    /// lazy, and authoring applies at once: a repeat within the batch is found too). Each chunk
    /// carries the hash it was named by (computed from its data, once): the lookup here and the
    /// index on apply use it.
    /// </summary>
    private IEnumerable<DeltaOp> FreshChunks(ToolId tool, IEnumerable<StoreChunk> chunks) =>
        chunks.Where(chunk => _replica!.State.FilesOf(tool)?.ChunkDelta(chunk.Hash) is null);

    /// <param name="wholeFile">Answer <see cref="Authored"/>, as to <see cref="PutFileContent"/>, rather than <see cref="UploadFinished"/>.</param>
    private void FinishFile(FinishUpload finish, bool wholeFile = false)
    {
        if ((CheckUpload(finish.Name, out var tool) ?? CheckChunks(finish.LastChunks)) is { } refused)
        {
            Sender.Tell(refused);
            return;
        }
        if (finish.Chunks.Count > OpCodec.MaxChunks)
        {
            Sender.Tell(new Refused($"a file of at most {OpCodec.MaxChunks} chunks (this one has {finish.Chunks.Count})", 413));
            return;
        }
        // The last chunks and the file's version are signed together (for a small file, one
        // signature instead of two). The version is authored only once every chunk it names is held.
        var incomplete = false;
        IEnumerable<DeltaOp> ChunksThenVersion()
        {
            foreach (var chunk in FreshChunks(tool, finish.LastChunks)) yield return chunk;
            var files = _replica!.State.FilesOf(tool);
            if (incomplete = finish.Chunks.Any(c => files?.ChunkDelta(c.Hash) is null)) yield break;
            yield return new PutFile(finish.Name, finish.Size, finish.ContentHash, finish.Chunks);
        }
        var authored = _replica!.AuthorMany(tool, ChunksThenVersion(), finish.LastChunks.Count + 1, _peer.NowMillis);
        if (!authored.Ok || incomplete)
        {
            CommitDeltas(authored.Deltas, new Refused(authored.Rejection ?? "the upload names content this workspace does not hold (send every chunk first)",
                authored.Ok ? 409 : 400));
            return;
        }
        var version = authored.Authored[^1];
        var stored = authored.Deltas.Where(d => d.Header.Kind == OpKind.StoreChunk).ToList();
        CommitDeltas(authored.Deltas, wholeFile ? new Authored(version)
            : new UploadFinished(version, stored.Count, stored.Sum(d => (long)d.Bytes.Length), WorkspaceViews.Files(_replica, finish.Name)));
    }

    /// <summary>A whole small file in one message: cut and stored as an upload would be, in one write.</summary>
    private void PutFile(PutFileContent put)
    {
        var cuts = ContentChunker.Split(put.Content).Select(c => new StoreChunk(put.Content.AsSpan(c.Offset, c.Length).ToArray())).ToList();
        var chunks = cuts.Select(c => new FileChunk(c.Hash, c.Data.Length)).ToList();
        FinishFile(new FinishUpload(put.Name, put.Content.Length, SHA256.HashData(put.Content), chunks, cuts), wholeFile: true);
    }

    private object Manifest(string name)
    {
        var tool = _replica!.State.DefaultTool(ToolKind.Files);
        var files = tool is null ? null : _replica.State.FilesOf(tool.Value);
        var view = files?.View().FirstOrDefault(f => f.Name == name);
        if (view is null) return new Refused($"no file named '{name}'", 404);
        if (!files!.HasContent(view.Version)) return new Refused($"'{name}' is not complete here yet", 409);
        return new DownloadManifest(view.Version.Id, view.Version.Size, view.Version.ContentHash, view.Version.Chunks);
    }

    private object ReadChunkData(IReadOnlyList<byte[]> hashes)
    {
        if (_replica!.State.DefaultTool(ToolKind.Files) is not { } tool) return new Refused("the workspace has no files tool", 404);
        var data = new List<byte[]>(hashes.Count);
        foreach (var hash in hashes)
        {
            if (_replica.ReadChunk(tool, hash) is not { } bytes) return new Refused("a chunk of this file is not here yet", 409);
            data.Add(bytes);
        }
        return new ChunkData(data);
    }

    private object ReadFile(string name)
    {
        var opened = Manifest(name);
        if (opened is not DownloadManifest manifest) return opened;
        if (ReadChunkData(manifest.Chunks.Select(c => c.Hash).ToList()) is not ChunkData data) return new Refused($"'{name}' is not complete here yet", 409);
        using var content = new MemoryStream((int)Math.Min(manifest.Size, int.MaxValue));
        foreach (var chunk in data.Chunks) content.Write(chunk);
        return new FileContent(content.ToArray());
    }

    private LogSize LogSizeNow()
    {
        long bytes = 0;
        for (var i = 0; i < _replica!.LogCount; i++) bytes += _replica.LogAt(i).Length;
        return new LogSize(_replica.LogCount, bytes, _chunks.RecentBytes);
    }
}

using System.Security.Cryptography;
using ActorSync.Peer.Api;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>Verbs of the files tool: upload, download and list, streamed both ways.</summary>
internal static class FileVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("files put", "WS PATH [--name NAME]", "upload a file (NAME defaults to PATH's file name; a/b.txt makes folders)",
            VerbShape.Of(2, 2, ["name"]), Put),
        new("files get", "WS NAME OUT", "download a file to OUT (a folder keeps NAME's file name; - writes to stdout)",
            VerbShape.Of(3, 3), Get),
        new("files list", "WS [--json]", "files: name, size, hash, author, version",
            VerbShape.Of(1, 1, flags: ["json"]), List),
    ];

    /// <summary>What an upload stored, with the SHA-256 and length of the bytes actually sent.</summary>
    internal sealed record Upload(FileInfoView Stored, string Sha256, long Bytes);

    internal static async Task<Upload> UploadAsync(Invocation inv, string ws, string path, string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new UsageException("--name NAME is required when PATH has no file name");
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {path}: {e.Message}");
        }
        var progress = new TransferProgress(inv.Err, inv.Console.Interactive, "uploading", name, file.CanSeek ? file.Length : null);
        await using (file)
        await using (var hashing = new HashingStream(new ProgressStream(file, progress.Report)))
        {
            try
            {
                var stored = await inv.Api.UploadAsync<FileInfoView>(PeerApiClient.FileRoute(ws, name), hashing, inv.Ct);
                return new Upload(stored, hashing.HexDigest(), hashing.BytesRead);
            }
            finally
            {
                progress.Finish();
            }
        }
    }

    private static async Task<int> Put(Invocation inv)
    {
        var (ws, path) = (inv.Args.Positional(0), inv.Args.Positional(1));
        var upload = await UploadAsync(inv, ws, path, inv.Args.Value("name") ?? Path.GetFileName(path));
        inv.Out.WriteLine(Render.Stored(upload.Stored));
        return ExitCodes.Ok;
    }

    private static async Task<int> Get(Invocation inv)
    {
        var (ws, name, output) = (inv.Args.Positional(0), inv.Args.Positional(1), inv.Args.Positional(2));
        var route = PeerApiClient.FileRoute(ws, name);
        var progress = new TransferProgress(inv.Err, inv.Console.Interactive, "downloading", name, await SizeOfAsync(inv, ws, name));
        try
        {
            return await Download(inv, name, output, route, progress);
        }
        finally
        {
            progress.Finish();
        }
    }

    /// <summary>The listed size of a file, for the progress line; null when it cannot be told (the download then says why).</summary>
    private static async Task<long?> SizeOfAsync(Invocation inv, string ws, string name)
    {
        try
        {
            var files = await inv.Api.GetAsync<List<FileInfoView>>(PeerApiClient.Route("v1", "workspaces", ws, "files"), inv.Ct);
            return files.FirstOrDefault(f => f.Name == name)?.Size;
        }
        catch (PeerApiException)
        {
            return null;
        }
    }

    private static async Task<int> Download(Invocation inv, string name, string output, string route, TransferProgress progress)
    {
        if (output == "-")
        {
            await using var stdout = inv.Console.OpenStdout();
            await inv.Api.DownloadAsync(route, new ProgressStream(stdout, progress.Report), inv.Ct);
            return ExitCodes.Ok;
        }
        var target = Directory.Exists(output) ? Path.Combine(output, LastSegment(name)) : output;
        // Download beside the target and rename at the end: an interrupted or failed transfer never
        // leaves a truncated file under the real name.
        var partial = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        try
        {
            long length;
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await inv.Api.DownloadAsync(route, new ProgressStream(file, progress.Report), inv.Ct);
                length = file.Length;
            }
            File.Move(partial, target, overwrite: true);
            inv.Out.WriteLine($"saved {TextTable.Clean(name)} to {target} ({TextTable.Size(length)})");
            return ExitCodes.Ok;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static async Task<int> List(Invocation inv)
    {
        var files = await inv.Api.GetAsync<List<FileInfoView>>(PeerApiClient.Route("v1", "workspaces", inv.Args.Positional(0), "files"), inv.Ct);
        inv.PrintListing(files, Render.Files, "(no files yet)");
        return ExitCodes.Ok;
    }

    /// <summary>"docs/plan.txt" -> "plan.txt", refusing names that would step out of the chosen folder.</summary>
    internal static string LastSegment(string name)
    {
        var last = name.Split('/', '\\').Last();
        return last is "" or "." or ".." ? throw new UsageException($"'{TextTable.Clean(name)}' has no file name to save under; give OUT as a file path") : last;
    }
}

/// <summary>A read-only pass-through that hashes (SHA-256) and counts what is read through it.</summary>
internal sealed class HashingStream(Stream inner) : Stream
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[]? digest;

    public long BytesRead { get; private set; }

    /// <summary>The digest of everything read; call once reading is done.</summary>
    public string HexDigest() => Convert.ToHexStringLower(digest ??= hash.GetHashAndReset());

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;

    public override long Position
    {
        get => BytesRead;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        Account(buffer.Span[..n]);
        return n;
    }

    private void Account(ReadOnlySpan<byte> bytes)
    {
        hash.AppendData(bytes);
        BytesRead += bytes.Length;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        // HttpClient disposes request content once sent, before the caller asks for the digest.
        if (disposing)
        {
            digest ??= hash.GetHashAndReset();
            hash.Dispose();
        }
        base.Dispose(disposing);
    }
}

using ActorSync.Cli.Commands;

namespace ActorSync.Cli.Backup;

/// <summary>
/// Writes a backup beside its target and renames it at the end (readable by this user only), so an
/// interrupted or failed backup never leaves a partial file under the real name, and an existing
/// file is never overwritten.
/// </summary>
internal static class SecretFile
{
    public static async Task WriteAsync(string target, Func<Stream, Task> write)
    {
        if (File.Exists(target) || Directory.Exists(target)) throw new CliException($"{target} exists already (a backup never overwrites a file)");
        var full = Path.GetFullPath(target);
        var partial = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.partial");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            await using (var file = OpenOrExplain(partial, options))
            {
                await write(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(partial, full);
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
        }
    }

    /// <summary>A backup file to read, or a line saying why it cannot be.</summary>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {path}: {e.Message}");
        }
    }

    private static FileStream OpenOrExplain(string path, FileStreamOptions options)
    {
        try
        {
            return new FileStream(path, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {e.Message}");
        }
    }
}

using ActorSync.Core.Encoding;

namespace ActorSync.Core.Backup;

/// <summary>
/// What an account backup holds before it is encrypted: <c>"ASAC" || version || count || (name, bytes)...</c>,
/// the files of a home that make up its identity, by file name. The home decides which names it
/// writes and takes back; this only frames them.
/// </summary>
public static class AccountBundle
{
    public static ReadOnlySpan<byte> Magic => "ASAC"u8;
    public const byte Version = 1;
    private const int MaxFiles = 16;
    private const int MaxFileSize = 1024 * 1024;

    public static byte[] Encode(IReadOnlyList<(string Name, byte[] Content)> files)
    {
        var w = new WireWriter(4096);
        w.Raw(Magic);
        w.Byte(Version);
        w.VarUInt((ulong)files.Count);
        foreach (var (name, content) in files)
        {
            w.String(name);
            w.Bytes(content);
        }
        return w.ToArray();
    }

    /// <summary>Throws <see cref="WireFormatException"/> for anything that is not an account bundle.</summary>
    public static IReadOnlyList<(string Name, byte[] Content)> Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new WireReader(bytes);
        if (!r.Raw(Magic.Length, "account backup").SequenceEqual(Magic)) throw new WireFormatException("not an account backup");
        if (r.Byte("account backup version") != Version) throw new WireFormatException("account backup: unknown version");
        var count = r.Count(MaxFiles, "account backup files");
        var files = new List<(string, byte[])>(count);
        for (var i = 0; i < count; i++) files.Add((r.String(64, "file name"), r.Bytes(MaxFileSize, "file").ToArray()));
        r.ExpectEnd("account backup");
        return files;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using ActorSync.EndToEnd.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.EndToEnd.Tests;

/// <summary>
/// A large file between two real peer processes: `files put` of a 200 MB file, then of the same
/// file with 1 KB inserted in the middle. Content is cut by content, so the second put authors
/// (and members are sent) only the chunks around the change: `files put` reports it as
/// "new content: N bytes". The other peer ends with the changed file byte for byte.
/// </summary>
[Collection(PeerProcessesCollection.Name)]
public sealed partial class LargeFileChangeSpecs(ITestOutputHelper output)
{
    private const long FileBytes = 200L * 1000 * 1000;

    [Fact(Timeout = PeerProcessesCollection.TestTimeout)]
    public async Task A_1_KB_change_to_a_200_MB_file_should_send_under_1_MB_and_arrive_byte_identical()
    {
        await using var cluster = new PeerCluster();
        var peers = await cluster.StartAsync("Ann", "Bob");
        var (ann, bob) = (peers[0], peers[1]);
        await PeerCluster.ExchangeCardsAsync(ann, bob);
        var ws = await PeerCluster.CreateWorkspaceAsync(ann, "Archive");
        await cluster.InviteAndJoinAsync(ann, ws, (bob, "participant"));

        var path = Path.Combine(cluster.Root, "big.bin");
        var original = await WriteAsync(path, patchAt: null);
        var first = NewContent(await ann.OkAsync("files", "put", ws, path));
        Assert.InRange(first, FileBytes, FileBytes + FileBytes / 10); // every chunk is new, sealed
        await ArrivedAsync(cluster, bob, ws, original);

        var changed = await WriteAsync(path, patchAt: FileBytes / 2);
        var second = NewContent(await ann.OkAsync("files", "put", ws, path));
        output.WriteLine($"files put of {FileBytes} bytes: new content {first} bytes; again with 1 KB inserted: new content {second} bytes");
        Assert.InRange(second, 1, 1_000_000);
        await ArrivedAsync(cluster, bob, ws, changed);

        var copy = Path.Combine(cluster.Root, "copy.bin");
        await bob.OkAsync("files", "get", ws, "big.bin", copy);
        await using var read = File.OpenRead(copy);
        Assert.Equal(changed, Convert.ToHexStringLower(await SHA256.HashDataAsync(read)));
        File.Delete(copy);
        File.Delete(path);
    }

    /// <summary>Seeded content written a MiB at a time, with 1 KB inserted at <paramref name="patchAt"/>; its SHA-256.</summary>
    private static async Task<string> WriteAsync(string path, long? patchAt)
    {
        var random = new Random(20261128);
        var block = new byte[1024 * 1024];
        var patch = new byte[1024];
        new Random(7).NextBytes(patch);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = File.Create(path);
        async Task Write(ReadOnlyMemory<byte> bytes)
        {
            sha.AppendData(bytes.Span);
            await file.WriteAsync(bytes);
        }
        for (long written = 0; written < FileBytes; written += block.Length)
        {
            random.NextBytes(block);
            var n = (int)Math.Min(block.Length, FileBytes - written);
            if (patchAt is { } at && at >= written && at < written + n)
            {
                var split = (int)(at - written);
                await Write(block.AsMemory(0, split));
                await Write(patch);
                await Write(block.AsMemory(split, n - split));
            }
            else
            {
                await Write(block.AsMemory(0, n));
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static long NewContent(CliResult put)
    {
        var match = NewContentLine().Match(put.Stdout);
        Assert.True(match.Success, "files put says how much content was new: " + put.Stdout);
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static Task ArrivedAsync(PeerCluster cluster, PeerProcess peer, string ws, string hash) =>
        cluster.EventuallyAsync($"big.bin ({hash[..8]}) complete at {peer.Name}", () => Listings.FilesAsync(peer, ws),
            files => files.Any(f => f.Name == "big.bin" && f.Hash == hash && f.ContentComplete), timeout: TimeSpan.FromMinutes(5));

    [GeneratedRegex(@"new content: (\d+) bytes")]
    private static partial Regex NewContentLine();
}

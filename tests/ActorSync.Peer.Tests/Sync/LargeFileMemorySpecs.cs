using System.Security.Cryptography;
using ActorSync.Core.Permissions;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>
/// A large file is streamed, not held: uploaded to one peer, synced to a second (gRPC over mutual
/// TLS, SQLite journals, both in this process), both restarted and the file read back, with the
/// managed heap measured after a full collection at each step. File content lives in each
/// workspace's chunk pack on disk; what stays in memory per chunk is a log entry.
/// </summary>
[Collection(Name)]
public class LargeFileMemorySpecs(ITestOutputHelper output)
{
    /// <summary>
    /// Alone: the heap it measures is the whole test process's, and specs running beside it once
    /// added ~100 MiB to it (142 MiB against the 54 MiB bound; 20-25 MiB when run by itself).
    /// </summary>
    public const string Name = "Large file memory (runs alone: it measures the process's heap)";

    // 64 MiB by default (a routine run on a loaded two-core machine); ACTORSYNC_LARGE_FILE_MB=300
    // or 1024 for the measurement the README quotes.
    private static readonly int FileMb = int.TryParse(Environment.GetEnvironmentVariable("ACTORSYNC_LARGE_FILE_MB"), out var mb) ? mb : 64;

    [Fact]
    public async Task A_large_file_should_upload_sync_recover_and_download_without_being_held_in_memory()
    {
        var dir = Directory.CreateTempSubdirectory("actorsync-large-");
        await using var ann = await TestPeer.StartAsync("ann");
        await using var bob = await TestPeer.StartAsync("bob");
        try
        {
            var path = Path.Combine(dir.FullName, "large.bin");
            var hash = await WriteRandomFileAsync(path, (long)FileMb * 1024 * 1024);
            var ws = await SharedWorkspaceAsync(ann, bob);

            var baseline = Heap();
            const long MiB = 1024 * 1024;
            // Two replicas of the file would be 2x its size: allow a fixed 48 MiB plus a tenth of it
            // (log entries, the journal's caches, GC slack on a loaded machine).
            var bound = 48 * MiB + (long)FileMb * MiB / 10;
            using var peak = new PeakHeap();
            await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
                await ann.Api.PutFileAsync(ws, "large.bin", file, default);
            var uploaded = Heap();
            await TestPeer.Eventually(async () => (await bob.Api.FilesAsync(ws, default)).Any(f => f.Name == "large.bin" && f.Hash == hash && f.ContentComplete),
                "the file complete at bob", seconds: 900);
            var synced = await HeapSettledAsync(baseline + bound, "after the sync");

            await ann.RestartAsync();
            await bob.RestartAsync();
            // Answered only once the workspace actors have recovered.
            await ann.Api.ShowWorkspaceAsync(ws, default);
            await bob.Api.ShowWorkspaceAsync(ws, default);
            var recovered = await HeapSettledAsync(baseline + bound, "after both restarted");

            var copy = Path.Combine(dir.FullName, "copy.bin");
            await using (var file = File.Create(copy)) await bob.Api.GetFileAsync(ws, "large.bin", file, default);
            var downloaded = await HeapSettledAsync(baseline + bound, "after the download");
            await using (var read = File.OpenRead(copy)) Assert.Equal(hash, Convert.ToHexStringLower(await SHA256.HashDataAsync(read)));

            output.WriteLine($"{FileMb} MiB file, managed heap of both peers (MiB): baseline {baseline / MiB}, after upload at ann {uploaded / MiB}, "
                + $"after sync to bob {synced / MiB}, after both restarted {recovered / MiB}, after bob's download {downloaded / MiB}; "
                + $"peak seen without a forced collection {peak.Max / MiB}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The heap once it is at most <paramref name="limit"/> (polled for up to a minute): what the
    /// last step used may still be referenced for a moment after the step returns (a CI run saw
    /// +67 MiB straight after the download, +13 when run again alone), but content held for good
    /// never gets under the limit and fails here.
    /// </summary>
    private static async Task<long> HeapSettledAsync(long limit, string step)
    {
        var heap = long.MaxValue;
        await ActorSync.Tests.Shared.Poll.Until(() => Task.FromResult((heap = Heap()) <= limit), $"the managed heap under {limit >> 20} MiB {step}",
            TimeSpan.FromSeconds(60), () => $"last measured: {heap >> 20} MiB");
        return heap;
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Content from a seeded generator, written a MiB at a time: the test holds no whole file either.</summary>
    private static async Task<string> WriteRandomFileAsync(string path, long size)
    {
        var random = new Random(20261128);
        var block = new byte[1024 * 1024];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = File.Create(path);
        for (long written = 0; written < size; written += block.Length)
        {
            random.NextBytes(block);
            var n = (int)Math.Min(block.Length, size - written);
            sha.AppendData(block, 0, n);
            await file.WriteAsync(block.AsMemory(0, n));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static async Task<string> SharedWorkspaceAsync(TestPeer ann, TestPeer bob)
    {
        await TestPeer.ConnectAsync(ann, bob);
        var ws = await ann.Api.CreateWorkspaceAsync("Large", default);
        await ann.Api.InviteAsync(ws, (await bob.Api.InfoAsync(default)).Account, Role.Participant, default);
        await TestPeer.Eventually(async () => (await bob.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "bob receives the invitation");
        await bob.Api.AcceptAsync(ws, default);
        await TestPeer.Eventually(async () => (await bob.Api.JoinProgressAsync(ws, default)).Complete, "bob's first copy");
        return ws;
    }

    /// <summary>The largest heap size seen between collections, sampled every 100 ms (reported, never asserted: it depends on when the GC runs).</summary>
    private sealed class PeakHeap : IDisposable
    {
        private readonly Timer _timer;
        private long _max;

        public PeakHeap() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));

        public long Max => Interlocked.Read(ref _max);

        private void Sample()
        {
            var now = GC.GetTotalMemory(forceFullCollection: false);
            long seen;
            while (now > (seen = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen) { }
        }

        public void Dispose() => _timer.Dispose();
    }
}

[CollectionDefinition(LargeFileMemorySpecs.Name, DisableParallelization = true)]
public sealed class LargeFileMemoryCollection;

using System.Security.Cryptography;
using ActorSync.Peer.Home;
using Xunit;

namespace ActorSync.Peer.Tests.Home;

/// <summary>
/// The chunk pack's bytes in memory: what this device authored is read back from memory while it is
/// recent, anything else from the file, and every read gives exactly the bytes appended.
/// </summary>
public sealed class ChunkPackSpecs : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("actorsync-pack-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void ChunkPack_should_answer_recent_own_appends_from_memory_and_the_rest_from_the_file()
    {
        using var pack = new ChunkPack(Path.Combine(_root, "chunks", "ws.pack"));
        var received = RandomNumberGenerator.GetBytes(70_000);
        var own = RandomNumberGenerator.GetBytes(90_000);
        var atReceived = pack.Append(received, sendingSoon: false);
        var atOwn = pack.Append(own, sendingSoon: true);
        pack.Flush();

        Assert.Same(own, pack.Read(atOwn));
        Assert.Equal(own.Length, pack.RecentBytes);
        var readReceived = pack.Read(atReceived);
        Assert.NotSame(received, readReceived);
        Assert.Equal(received, readReceived);

        // Forgotten: the same bytes, from the file.
        pack.ForgetRecent();
        Assert.Equal(0, pack.RecentBytes);
        var fromFile = pack.Read(atOwn);
        Assert.NotSame(own, fromFile);
        Assert.Equal(own, fromFile);
    }

    [Fact]
    public void ChunkPack_should_hold_at_most_its_limit_of_recent_appends_dropping_the_oldest_first()
    {
        using var pack = new ChunkPack(Path.Combine(_root, "chunks", "ws.pack"));
        var chunk = ChunkPack.RecentLimit / 4 + 1;
        var appended = Enumerable.Range(0, 6).Select(_ => RandomNumberGenerator.GetBytes(chunk)).ToList();
        var places = appended.Select(bytes => pack.Append(bytes, sendingSoon: true)).ToList();

        Assert.True(pack.RecentBytes <= ChunkPack.RecentLimit);
        Assert.Equal(3L * chunk, pack.RecentBytes);
        for (var i = 0; i < appended.Count; i++)
        {
            var read = pack.Read(places[i]);
            Assert.Equal(appended[i], read);
            // The last three fit under the limit; the first three were let go and come from the file.
            Assert.Equal(i >= 3, ReferenceEquals(appended[i], read));
        }
    }
}

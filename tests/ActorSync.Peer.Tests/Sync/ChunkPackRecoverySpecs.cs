using System.Security.Cryptography;
using ActorSync.Core.Permissions;
using Xunit;

namespace ActorSync.Peer.Tests.Sync;

/// <summary>
/// The chunk pack across crashes: bytes a crash left without a journal event are ignored and later
/// appends go after them; a chunk damaged on disk is left out at recovery and sent again by a member.
/// </summary>
public class ChunkPackRecoverySpecs
{
    [Fact]
    public async Task Garbage_after_a_crash_should_be_ignored_and_a_damaged_chunk_should_come_back_from_a_member()
    {
        await using var ann = await TestPeer.StartAsync("ann");
        await using var bob = await TestPeer.StartAsync("bob");
        await TestPeer.ConnectAsync(ann, bob);
        var ws = await ann.Api.CreateWorkspaceAsync("Packs", default);
        await ann.Api.InviteAsync(ws, (await bob.Api.InfoAsync(default)).Account, Role.Participant, default);
        await TestPeer.Eventually(async () => (await bob.Api.InvitationsAsync(default)).Any(i => i.Workspace == ws), "bob receives the invitation");
        await bob.Api.AcceptAsync(ws, default);
        var first = RandomNumberGenerator.GetBytes(300_000);
        await ann.Api.PutFileAsync(ws, "first.bin", new MemoryStream(first), default);
        await TestPeer.Eventually(async () => (await bob.Api.FilesAsync(ws, default)).Any(f => f.Name == "first.bin" && f.ContentComplete), "first.bin at bob");

        // A crash after the pack write and before the journal's: bytes no event names.
        var pack = Path.Combine(ann.HomePath, "chunks", ws + ".pack");
        await ann.StopAsync();
        await File.AppendAllTextAsync(pack, "torn write");
        await ann.StartAgainAsync();
        Assert.Equal(first, await ReadAsync(ann, ws, "first.bin"));
        var second = RandomNumberGenerator.GetBytes(200_000);
        await ann.Api.PutFileAsync(ws, "second.bin", new MemoryStream(second), default);
        await ann.RestartAsync();
        Assert.Equal(first, await ReadAsync(ann, ws, "first.bin"));
        Assert.Equal(second, await ReadAsync(ann, ws, "second.bin"));

        // A byte of first.bin's content damaged on disk: left out at recovery, then sent again by bob.
        await ann.StopAsync();
        await using (var file = new FileStream(pack, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 100;
            var b = file.ReadByte();
            file.Position = 100;
            file.WriteByte((byte)(b ^ 0xFF));
        }
        await ann.StartAgainAsync();
        await TestPeer.ConnectAsync(ann, bob);
        await TestPeer.Eventually(async () => (await ann.Api.FilesAsync(ws, default)) is { Count: 2 } files && files.All(f => f.ContentComplete),
            "first.bin complete at ann again");
        Assert.Equal(first, await ReadAsync(ann, ws, "first.bin"));
    }

    private static async Task<byte[]> ReadAsync(TestPeer peer, string ws, string name)
    {
        using var read = new MemoryStream();
        await peer.Api.GetFileAsync(ws, name, read, default);
        return read.ToArray();
    }
}

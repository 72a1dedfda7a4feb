using ActorSync.Core.Backup;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Tests.Support;
using Xunit;

namespace ActorSync.Core.Tests.Backup;

/// <summary>Rebuilding a replica from an export: the same state, and any tampering refuses the whole file.</summary>
public class WorkspaceRebuildSpecs
{
    private static (TestWorkspace Ws, byte[] Keyring, List<byte[]> Deltas) Exported()
    {
        var ws = TestWorkspace.WithMembers(("ann", Role.Manager), ("bob", Role.Participant));
        var discussion = new ToolId("discussion");
        Assert.True(ws["ann"].Author(discussion, new CreateEntry(EntryFields.Of(("text", "hello")))
            , ws.Tick()).Ok);
        Assert.True(ws["bob"].Author(discussion, new CreateEntry(EntryFields.Of(("text", "hi"))), ws.Tick()).Ok);
        ws.SyncAll();
        var bob = ws["bob"];
        return (ws, bob.Keyring.Export(), bob.Log.Select(d => d.Bytes).ToList());
    }

    [Fact]
    public async Task Workspace_bundle_should_round_trip_and_refuse_anything_cut_short()
    {
        var (ws, keyring, deltas) = Exported();
        using var _ = ws;
        using var body = new MemoryStream();
        await WorkspaceBundle.WriteAsync(body, ws["bob"].Id, keyring, ws["bob"].Log, default);
        var read = await WorkspaceBundle.ReadAsync(new MemoryStream(body.ToArray()), default);
        Assert.Equal(ws["bob"].Id, read.Workspace);
        Assert.Equal(keyring, read.Keyring);
        Assert.Equal(deltas, read.Deltas);
        var bytes = body.ToArray();
        for (var cut = 0; cut < bytes.Length; cut += 7)
            await Assert.ThrowsAsync<WireFormatException>(() => WorkspaceBundle.ReadAsync(new MemoryStream(bytes[..cut]), default));
        await Assert.ThrowsAsync<WireFormatException>(() => WorkspaceBundle.ReadAsync(new MemoryStream([.. bytes, 0]), default));
    }

    [Fact]
    public async Task Workspace_bundle_should_carry_an_image_only_when_given_one()
    {
        var (ws, keyring, _) = Exported();
        using var _ = ws;
        // No image (an unpruned workspace, as the peer passes it: a null array): version 1, as before.
        byte[]? none = null;
        using var plain = new MemoryStream();
        await WorkspaceBundle.WriteAsync(plain, ws["bob"].Id, keyring, ws["bob"].Log, default, none);
        Assert.Equal(WorkspaceBundle.Version, plain.ToArray()[WorkspaceBundle.Magic.Length]);
        Assert.Null((await WorkspaceBundle.ReadAsync(new MemoryStream(plain.ToArray()), default)).Image);
        // With one: version 2, read back byte for byte.
        var image = ws["bob"].WriteImage(Replication.ImageLog.Transfer);
        using var pruned = new MemoryStream();
        await WorkspaceBundle.WriteAsync(pruned, ws["bob"].Id, keyring, [], default, image);
        Assert.Equal(WorkspaceBundle.PrunedVersion, pruned.ToArray()[WorkspaceBundle.Magic.Length]);
        Assert.Equal(image, (await WorkspaceBundle.ReadAsync(new MemoryStream(pruned.ToArray()), default)).Image);
    }

    [Fact]
    public void Rebuild_should_give_the_same_state_hash_for_another_account()
    {
        var (ws, keyring, deltas) = Exported();
        using var _ = ws;
        using var stranger = new TestMember("dan");
        using var rebuilt = WorkspaceRebuild.Rebuild(ws["bob"].Id, stranger.Account, stranger.Device, keyring, deltas, out var refusal);
        Assert.Null(refusal);
        Assert.Equal(ws["bob"].State.StateHash(), rebuilt!.State.StateHash());
        Assert.Equal(deltas.Count, rebuilt.LogCount);
    }

    [Fact]
    public void Rebuild_should_refuse_a_tampered_reordered_or_incomplete_export()
    {
        var (ws, keyring, deltas) = Exported();
        using var _ = ws;
        using var dan = new TestMember("dan");
        var id = ws["bob"].Id;
        string? Refusal(byte[] ring, List<byte[]> list)
        {
            using var replica = WorkspaceRebuild.Rebuild(id, dan.Account, dan.Device, ring, list, out var refusal);
            Assert.Equal(refusal is null, replica is not null);
            return refusal;
        }
        for (var i = 0; i < deltas.Count; i++)
        {
            // A byte near the end of each delta: its signature or its ciphertext.
            var tampered = deltas.Select(d => (byte[])d.Clone()).ToList();
            tampered[i][^10] ^= 0x40;
            Assert.NotNull(Refusal(keyring, tampered));
        }
        Assert.NotNull(Refusal(keyring, [.. deltas.Skip(1)]));
        Assert.NotNull(Refusal(keyring, [deltas[1], deltas[0], .. deltas.Skip(2)]));
        Assert.NotNull(Refusal(keyring, [.. deltas, deltas[^1]]));
        Assert.NotNull(Refusal(keyring, []));
        Assert.NotNull(Refusal([1, 2, 3], deltas));
        using var otherRing = new Crypto.EpochKeyring(id);
        Assert.NotNull(Refusal(otherRing.Export(), deltas));
        Assert.NotNull(Refusal(keyring, [[9, 9, 9]]));
    }
}

using ActorSync.Core.Backup;
using ActorSync.Core.Encoding;
using ActorSync.Peer.Home;
using Xunit;

namespace ActorSync.Peer.Tests.Home;

/// <summary>The identity files of a home as a bundle: restored whole into an empty home, never over an identity, never outside the home.</summary>
public sealed class HomeBackupSpecs : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("actorsync-homebackup-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void HomeBackup_should_restore_the_same_account_device_and_pin_into_an_empty_home_only()
    {
        var source = Path.Combine(_root, "ann");
        using var original = PeerHome.Init(source, "Ann", ["https://127.0.0.1:7443#" + new string('a', 64)]);
        var bundle = HomeBackup.Collect(source);

        var target = Path.Combine(_root, "restored");
        using (var restored = HomeBackup.Restore(target, bundle))
        {
            Assert.Equal((original.Account.Id, original.Device.Id, original.Account.Name), (restored.Account.Id, restored.Device.Id, restored.Account.Name));
            Assert.Equal(original.Tls.Pin, restored.Tls.Pin);
            Assert.Equal(original.Relays, restored.Relays);
        }
        Assert.Throws<InvalidOperationException>(() => HomeBackup.Restore(target, bundle));
        Assert.Throws<InvalidOperationException>(() => HomeBackup.Restore(source, bundle));
    }

    [Fact]
    public void HomeBackup_should_refuse_a_bundle_with_other_file_names_or_no_identity_and_write_nothing()
    {
        using var ann = PeerHome.Init(Path.Combine(_root, "ann"), "Ann", []);
        var identity = File.ReadAllBytes(Path.Combine(ann.Path, PeerHome.IdentityFile));
        var target = Path.Combine(_root, "target");
        foreach (var files in new List<(string, byte[])>[]
                 {
                     [(PeerHome.IdentityFile, identity), ("../escape", [1])],
                     [(PeerHome.RelaysFile, [])],
                     [(PeerHome.IdentityFile, identity), (PeerHome.IdentityFile, identity)],
                 })
        {
            Assert.Throws<WireFormatException>(() => HomeBackup.Restore(target, AccountBundle.Encode(files)));
            Assert.False(Directory.Exists(target));
        }
        Assert.False(File.Exists(Path.Combine(_root, "escape")));
        Assert.Throws<WireFormatException>(() => HomeBackup.Restore(target, [1, 2, 3]));
    }
}

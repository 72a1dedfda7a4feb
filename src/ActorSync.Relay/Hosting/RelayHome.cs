using ActorSync.Core.Crypto;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;

namespace ActorSync.Relay.Hosting;

/// <summary>
/// A relay node's folder: its TLS key (devices pin it through the relay address they are given),
/// and the SQLite files of the single-node default.
/// </summary>
public sealed class RelayHome : IDisposable
{
    private const string KeyFile = "relay.key";

    private RelayHome(string path, DeviceIdentity identity, DeviceCertificate tls)
    {
        Path = path;
        Identity = identity;
        Tls = tls;
    }

    public string Path { get; }
    public DeviceIdentity Identity { get; }
    public DeviceCertificate Tls { get; }
    public string JournalDatabase => System.IO.Path.Combine(Path, "relay-journal.db");
    public string SnapshotDatabase => System.IO.Path.Combine(Path, "relay-snapshots.db");

    public static RelayHome LoadOrCreate(string path)
    {
        Directory.CreateDirectory(path);
        var keyPath = System.IO.Path.Combine(path, KeyFile);
        DeviceIdentity identity;
        if (File.Exists(keyPath))
        {
            identity = new DeviceIdentity(SigningKeyPair.FromPrivate(File.ReadAllBytes(keyPath)));
        }
        else
        {
            identity = DeviceIdentity.Generate();
            Peer.Home.PeerHome.WriteSecret(keyPath, identity.Signing.ExportPrivate());
        }
        return new RelayHome(System.IO.Path.GetFullPath(path), identity, DeviceCertificate.LoadOrCreate(path, identity.Id));
    }

    public void Dispose()
    {
        Identity.Dispose();
        Tls.Dispose();
    }
}

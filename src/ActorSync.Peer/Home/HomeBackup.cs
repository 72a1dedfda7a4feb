using ActorSync.Core.Backup;
using ActorSync.Core.Encoding;
using ActorSync.Peer.Links;

namespace ActorSync.Peer.Home;

/// <summary>
/// The identity files of a home as one account bundle, and back: the private keys (account,
/// agreement, device), the device's TLS certificate (so the pin other members hold stays valid)
/// and the designated relays. Works on the folder alone: these files do not change while a peer
/// runs, so no peer is needed either way. Contacts, invitations and workspaces are not in it
/// (workspaces have their own export).
/// </summary>
public static class HomeBackup
{
    private static readonly string[] Files = [PeerHome.IdentityFile, DeviceCertificate.FileName, PeerHome.RelaysFile];

    /// <summary>The bundle of <paramref name="home"/>'s identity; the caller encrypts it (and clears it).</summary>
    public static byte[] Collect(string home)
    {
        if (!PeerHome.Exists(home)) throw new FileNotFoundException($"{home} holds no ActorSync identity");
        var files = Files.Where(name => File.Exists(Path.Combine(home, name)))
            .Select(name => (name, File.ReadAllBytes(Path.Combine(home, name)))).ToList();
        return AccountBundle.Encode(files);
    }

    /// <summary>
    /// Writes a bundle's files into <paramref name="home"/>, which must hold no identity (one is never
    /// overwritten), and loads the result to prove it whole. The identity file goes last: until it is
    /// there the home is still empty as far as every other command is concerned.
    /// </summary>
    public static PeerHome Restore(string home, ReadOnlySpan<byte> bundle)
    {
        if (PeerHome.Exists(home)) throw new InvalidOperationException($"{home} already holds an identity; restore only into an empty home");
        var files = AccountBundle.Decode(bundle);
        if (files.Any(f => !Files.Contains(f.Name)) || files.Count(f => f.Name == PeerHome.IdentityFile) != 1
            || files.Select(f => f.Name).Distinct().Count() != files.Count)
            throw new WireFormatException("the account backup does not hold an identity");
        Directory.CreateDirectory(home);
        foreach (var (name, content) in files.OrderBy(f => f.Name == PeerHome.IdentityFile))
            PeerHome.WriteSecret(Path.Combine(home, name), content);
        return PeerHome.Load(home);
    }
}

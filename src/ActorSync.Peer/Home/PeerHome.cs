using System.Security.Cryptography;
using ActorSync.Core.Crypto;
using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using ActorSync.Peer.Links;

namespace ActorSync.Peer.Home;

/// <summary>
/// A peer's home folder: its identity (private keys, mode 0600), TLS certificate, databases, API
/// token and the address its running API listens on. One place names every file.
/// </summary>
public sealed class PeerHome : IDisposable
{
    private const byte IdentityVersion = 1;
    public const string IdentityFile = "identity.key";
    public const string TokenFile = "api-token";
    public const string ApiAddressFile = "api-address";
    public const string RelaysFile = "relays";

    private PeerHome(string path, AccountIdentity account, DeviceIdentity device, DeviceCertificate tls, IReadOnlyList<string> relays)
    {
        Path = path;
        Account = account;
        Device = device;
        Tls = tls;
        Relays = relays;
        Card = ContactCard.Create(account, [new CardDevice(device.Id, device.Signing.PublicKeyBytes, tls.Pin)], relays, CardIssuedAt());
    }

    public string Path { get; }
    public AccountIdentity Account { get; }
    public DeviceIdentity Device { get; }
    public DeviceCertificate Tls { get; }
    public IReadOnlyList<string> Relays { get; }

    /// <summary>This account's card: this device with its TLS pin, and its designated relays.</summary>
    public ContactCard Card { get; }

    public string JournalDatabase => System.IO.Path.Combine(Path, "journal.db");
    public string SnapshotDatabase => System.IO.Path.Combine(Path, "snapshots.db");

    /// <summary>The pack file holding a workspace's file content as sealed deltas (see <see cref="ChunkPack"/>).</summary>
    public string ChunkPackOf(WorkspaceId workspace) => System.IO.Path.Combine(Path, "chunks", workspace + ".pack");
    public string TokenPath => System.IO.Path.Combine(Path, TokenFile);
    public string ApiAddressPath => System.IO.Path.Combine(Path, ApiAddressFile);

    public static bool Exists(string path) => File.Exists(System.IO.Path.Combine(path, IdentityFile));

    /// <summary>Creates a new identity (account, device, TLS certificate) in an empty or new folder.</summary>
    public static PeerHome Init(string path, string name, IReadOnlyList<string> relays)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 64 || name.Any(char.IsControl))
            throw new ArgumentException("a name is 1-64 printable characters", nameof(name));
        if (Exists(path)) throw new InvalidOperationException($"{path} already holds an identity");
        CheckRelays(relays);
        Directory.CreateDirectory(path);
        var account = AccountIdentity.Generate(name.Trim());
        var device = DeviceIdentity.Generate();
        var w = new WireWriter(256);
        w.Byte(IdentityVersion);
        w.String(account.Name);
        w.Bytes(account.Signing.ExportPrivate());
        w.Bytes(account.Agreement.ExportPrivate());
        w.Bytes(device.Signing.ExportPrivate());
        WriteSecret(System.IO.Path.Combine(path, IdentityFile), w.WrittenSpan);
        File.WriteAllLines(System.IO.Path.Combine(path, RelaysFile), relays);
        var tls = DeviceCertificate.LoadOrCreate(path, device.Id);
        return new PeerHome(System.IO.Path.GetFullPath(path), account, device, tls, relays);
    }

    /// <summary>Relay addresses are what `actorsync relay` prints: https://HOST:PORT#PIN, or https://HOST:PORT/gateway#PIN for its HTTP gateway (the pin authenticates the relay).</summary>
    public static void CheckRelays(IEnumerable<string> relays)
    {
        foreach (var relay in relays)
            if (!RelayAddress.TryParse(relay, out _))
                throw new ArgumentException($"'{relay}' is not a relay address (https://HOST:PORT#PIN or https://HOST:PORT/gateway#PIN, as `actorsync relay` prints them)");
    }

    /// <param name="relays">Designated relays for this run (`actorsync peer --relay`); null keeps those given at init.</param>
    public static PeerHome Load(string path, IReadOnlyList<string>? relays = null)
    {
        if (relays is not null) CheckRelays(relays);
        if (!Exists(path)) throw new FileNotFoundException($"{path} holds no ActorSync identity (run: actorsync init --home {path} --name NAME)");
        var bytes = File.ReadAllBytes(System.IO.Path.Combine(path, IdentityFile));
        try
        {
            var r = new WireReader(bytes);
            if (r.Byte("identity version") != IdentityVersion) throw new WireFormatException("identity: unknown version");
            var name = r.String(256, "name");
            var account = new AccountIdentity(name, SigningKeyPair.FromPrivate(r.Bytes(64, "account key")),
                AgreementKeyPair.FromPrivate(r.Bytes(64, "agreement key")));
            var device = new DeviceIdentity(SigningKeyPair.FromPrivate(r.Bytes(64, "device key")));
            r.ExpectEnd("identity");
            var relaysPath = System.IO.Path.Combine(path, RelaysFile);
            relays ??= File.Exists(relaysPath) ? File.ReadAllLines(relaysPath).Where(l => l.Length > 0).ToList() : [];
            var tls = DeviceCertificate.LoadOrCreate(path, device.Id);
            return new PeerHome(System.IO.Path.GetFullPath(path), account, device, tls, relays);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>A fresh bearer token for the local API, readable only by this user.</summary>
    public string IssueApiToken()
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        WriteSecret(TokenPath, System.Text.Encoding.ASCII.GetBytes(token));
        return token;
    }

    internal static void WriteSecret(string file, ReadOnlySpan<byte> content)
    {
        var temp = file + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, file, overwrite: true);
    }

    /// <summary>Cards are re-issued at each start; the time only has to grow, so a newer card supersedes an older one.</summary>
    private static long CardIssuedAt() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public void Dispose()
    {
        Account.Dispose();
        Device.Dispose();
        Tls.Dispose();
    }
}

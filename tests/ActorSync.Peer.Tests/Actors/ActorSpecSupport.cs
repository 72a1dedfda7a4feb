using Akka.Configuration;
using ActorSync.Peer.Actors;
using ActorSync.Peer.Home;
using ActorSync.Peer.Hosting;
using ActorSync.Peer.Links;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Peer.Tests.Actors;

/// <summary>
/// Actor specs run one at a time: each owns an ActorSystem with SQLite persistence, and on two
/// loaded cores many of them starting at once starve the thread pool (shared/FACTS.md).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ActorSpecsCollection
{
    public const string Name = "Actor specs (one ActorSystem at a time)";
}

/// <summary>
/// A peer's files for one spec: a home made with <see cref="PeerHome.Init"/> in a temp folder,
/// its journal and snapshot SQLite files in WAL mode, and the shipped config/peer.hocon pointed at
/// them, with test overrides (timers the specs drive themselves are pushed far out).
/// </summary>
internal sealed class PeerFiles : IDisposable
{
    private const string Overrides = """
        actorsync.peer.anti-entropy-interval = 1h
        actorsync.peer.presence.tick-interval = 1h
        actorsync.peer.presence.lan.enabled = off
        actorsync.peer.ask-timeout = 20s
        akka.loglevel = INFO
        akka.test.single-expect-default = 20s
        akka.test.default-timeout = 20s
        """;

    private PeerFiles(string root, PeerHome home, Config config)
    {
        Root = root;
        Home = home;
        Config = config;
        Settings = PeerSettings.From(config);
    }

    public string Root { get; }
    public PeerHome Home { get; }
    public Config Config { get; }
    public PeerSettings Settings { get; }

    public static PeerFiles Create(string name)
    {
        var root = Path.Combine(Path.GetTempPath(), "actorsync-actors-" + Guid.NewGuid().ToString("N")[..12]);
        var homePath = Path.Combine(root, name);
        PeerHome.Init(homePath, name, []).Dispose();
        var home = PeerHome.Load(homePath);
        PeerConfig.EnsureWal(home.JournalDatabase);
        PeerConfig.EnsureWal(home.SnapshotDatabase);
        var config = ConfigurationFactory.ParseString(Overrides).WithFallback(PeerConfig.Load(home.JournalDatabase, home.SnapshotDatabase));
        return new PeerFiles(root, home, config);
    }

    /// <summary>What a peer process builds at start: fresh known devices, so a restart relearns everything from its journal.</summary>
    public PeerContext NewContext(TimeProvider? clock = null) =>
        new(Home, Settings, new KnownDevices(new PinDirectory()), clock ?? TimeProvider.System);

    public void Dispose()
    {
        Home.Dispose();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Base of the actor specs: a TestKit whose ActorSystem persists to this spec's own SQLite files.</summary>
[Collection(ActorSpecsCollection.Name)]
public abstract class PeerActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private protected PeerActorSpec(PeerFiles files, string system, ITestOutputHelper output) : base(files.Config, system, output) => Files = files;

    private protected PeerFiles Files { get; }

    /// <summary>Generous: SQLite writes on two loaded cores.</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Files.Dispose();
    }
}

/// <summary>A clock the spec sets by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}

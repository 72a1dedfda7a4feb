using Akka.Configuration;
using ActorSync.Relay.Hosting;
using Xunit;

namespace ActorSync.Relay.Tests.Clustering;

/// <summary>
/// Which configuration a relay node runs with for each journal: config/relay.hocon alone for
/// SQLite, with config/relay.postgres.hocon laid over it for PostgreSQL, a --config file over both,
/// and the command line over everything. No database is opened here.
/// </summary>
public sealed class RelayConfigSpecs : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "actorsync-relay-config-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly RelayHome _home;

    public RelayConfigSpecs()
    {
        _home = RelayHome.LoadOrCreate(Path.Combine(_root, "home"));
    }

    private Config Load(string? journal, string? userConfig = null)
    {
        string? file = null;
        if (userConfig is not null)
        {
            file = Path.Combine(_root, "user.hocon");
            File.WriteAllText(file, userConfig);
        }
        return RelayConfig.Load(_home, new RelayOptions(_home.Path, ClusterPort: 4053, Journal: journal, ConfigFile: file));
    }

    [Fact]
    public void A_relay_node_should_refuse_to_serialize_or_read_anything_with_the_json_serializer()
    {
        // Provider "local" so the spec opens no socket; the serializer table is what is checked.
        var config = ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(Load(null));
        using var system = Akka.Actor.ActorSystem.Create("relay-serializer-spec", config);
        var serialization = system.Serialization;
        // Anything without a serializer of its own would fall back to the default (JSON): refused both ways.
        var fallback = serialization.FindSerializerFor(new Uri("https://example.invalid"));
        Assert.IsType<ActorSync.Protocol.RefusingSerializer>(fallback);
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => fallback.ToBinary(new Uri("https://example.invalid")));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() =>
            serialization.Deserialize("{\"$type\":\"System.IO.FileInfo, System.IO\"}"u8.ToArray(), 1, "System.IO.FileInfo, System.IO"));
        // Protobuf messages keep their own serializer.
        Assert.IsType<ActorSync.Protocol.JournalSerializer>(serialization.FindSerializerFor(new ActorSync.Protocol.Relay.MailboxStore()));
    }

    [Fact]
    public void A_postgres_journal_should_load_the_postgres_overlay_with_the_connection_string_as_given()
    {
        // A password with a backslash and a quote must survive the trip through HOCON.
        const string connection = "Host=127.0.0.1;Port=5433;Username=postgres;Password='a\\b\"c';Database=actorsync";
        var config = Load("postgres:" + connection);

        foreach (var plugin in new[] { "akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql" })
        {
            Assert.Equal(RelayConfig.PostgresProvider, config.GetString(plugin + ".provider-name"));
            Assert.Equal(connection, config.GetString(plugin + ".connection-string"));
            // SQLite's read-uncommitted speed-up is dropped: the server's default isolation.
            Assert.Equal("unspecified", config.GetString(plugin + ".read-isolation-level"));
        }
        Assert.True(config.GetInt("akka.persistence.journal.sql.parallelism") > 1);
        // The rest of relay.hocon is still there.
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
    }

    [Fact]
    public void The_sqlite_default_should_not_load_the_postgres_overlay()
    {
        var config = Load(journal: null);
        Assert.Equal(RelayConfig.SqliteProvider, config.GetString("akka.persistence.journal.sql.provider-name"));
        Assert.Equal(1, config.GetInt("akka.persistence.journal.sql.parallelism"));
        Assert.Equal("read-uncommitted", config.GetString("akka.persistence.journal.sql.read-isolation-level"));
        Assert.Contains(_home.JournalDatabase, config.GetString("akka.persistence.journal.sql.connection-string"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_file_should_override_the_postgres_overlay_and_the_command_line_should_override_both()
    {
        var config = Load("postgres:Host=127.0.0.1;Database=actorsync", """
            akka.persistence.journal.sql.parallelism = 7
            akka.persistence.journal.sql.provider-name = "SQLite.MS"
            """);
        Assert.Equal(7, config.GetInt("akka.persistence.journal.sql.parallelism"));
        Assert.Equal(RelayConfig.PostgresProvider, config.GetString("akka.persistence.journal.sql.provider-name"));
    }

    [Theory]
    [InlineData("postgres:", "needs a connection string")]
    [InlineData("postgres:Host=127.0.0.1;Bogus Keyword=1", "not a valid Npgsql connection string")]
    [InlineData("postgres:Database=actorsync", "names no Host")]
    [InlineData("mysql:whatever", "sqlite:PATH or postgres:CONNECTION")]
    public void A_bad_journal_should_fail_the_start_with_a_clear_message(string journal, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => Load(journal));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cluster_should_down_a_crashed_node_well_within_twenty_seconds()
    {
        // Detection (heartbeat interval + acceptable pause + the phi margin, ~4.5-6 s measured),
        // then stable-after, then the removal margin before shards move: the budget for ~10-20 s.
        var cluster = Load(journal: null).GetConfig("akka.cluster");
        var detection = cluster.GetTimeSpan("failure-detector.heartbeat-interval") + cluster.GetTimeSpan("failure-detector.acceptable-heartbeat-pause")
            + TimeSpan.FromSeconds(2);
        var budget = detection + cluster.GetTimeSpan("split-brain-resolver.stable-after") + cluster.GetTimeSpan("down-removal-margin");
        Assert.InRange(budget, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", cluster.GetString("downing-provider-class"));
    }

    public void Dispose()
    {
        _home.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

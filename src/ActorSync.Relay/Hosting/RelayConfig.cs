using Akka.Configuration;
using Akka.Persistence.Sql;
using ActorSync.Peer.Hosting;
using Npgsql;

namespace ActorSync.Relay.Hosting;

/// <summary>
/// A relay node's configuration, highest precedence first: ports, seeds and the journal from the
/// command line; an optional user file (--config); the overlay of the chosen journal
/// (config/relay.postgres.hocon for PostgreSQL); config/relay.hocon beside the binaries; the
/// Akka.Persistence.Sql defaults.
/// </summary>
public static class RelayConfig
{
    /// <summary>Akka.Persistence.Sql provider names (linq2db) of the two journals a relay supports.</summary>
    public const string SqliteProvider = "SQLite.MS";
    public const string PostgresProvider = "PostgreSQL.15";

    public static Config Load(RelayHome home, RelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(home);
        ArgumentNullException.ThrowIfNull(options);
        var (provider, journal, snapshots) = Journal(home, options.Journal);
        var config = Shipped("relay.hocon");
        if (provider == PostgresProvider) config = Shipped("relay.postgres.hocon").WithFallback(config);
        if (options.ConfigFile is not null) config = ConfigurationFactory.ParseString(File.ReadAllText(options.ConfigFile)).WithFallback(config);
        var seeds = string.Join(", ", (options.Seeds ?? []).Select(s => "\"" + SeedAddress(s, options.ClusterTls is not null) + "\""));
        if (provider == SqliteProvider)
        {
            PeerConfig.EnsureWal(journal);
            PeerConfig.EnsureWal(snapshots);
            journal = PeerConfig.ConnectionString(journal);
            snapshots = PeerConfig.ConnectionString(snapshots);
        }
        var overrides = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.port = {{options.ClusterPort}}
            akka.cluster.seed-nodes = [{{seeds}}]
            akka.persistence.journal.sql.provider-name = {{Quote(provider)}}
            akka.persistence.journal.sql.connection-string = {{Quote(journal)}}
            akka.persistence.snapshot-store.sql.provider-name = {{Quote(provider)}}
            akka.persistence.snapshot-store.sql.connection-string = {{Quote(snapshots)}}
            """);
        return overrides.WithFallback(config).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    private static (string Provider, string Journal, string Snapshots) Journal(RelayHome home, string? spec)
    {
        if (spec is null) return (SqliteProvider, home.JournalDatabase, home.SnapshotDatabase);
        if (spec.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            var path = spec["sqlite:".Length..];
            if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("--journal sqlite:PATH needs a path");
            return (SqliteProvider, path, path + ".snapshots");
        }
        if (spec.StartsWith("postgres:", StringComparison.Ordinal))
        {
            var connection = PostgresConnection(spec["postgres:".Length..]);
            // One database for both: Akka.Persistence.Sql keeps journal and snapshots in separate tables.
            return (PostgresProvider, connection, connection);
        }
        throw new ArgumentException("--journal is sqlite:PATH or postgres:CONNECTION");
    }

    /// <summary>
    /// Checks a Npgsql connection string up front, so a typo fails the start with a clear message
    /// instead of the first mailbox write; returns it as given (passwords stay as written).
    /// </summary>
    private static string PostgresConnection(string connection)
    {
        if (string.IsNullOrWhiteSpace(connection))
        {
            throw new ArgumentException("--journal postgres:CONNECTION needs a connection string, e.g. postgres:Host=127.0.0.1;Port=5432;Username=postgres;Database=actorsync");
        }
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connection);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException("--journal postgres:CONNECTION is not a valid Npgsql connection string: " + e.Message, e);
        }
        if (string.IsNullOrEmpty(parsed.Host)) throw new ArgumentException("--journal postgres:CONNECTION names no Host");
        return connection;
    }

    private static Config Shipped(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "config", name);
        if (!File.Exists(path)) throw new FileNotFoundException($"config/{name} is missing beside the binaries", path);
        return ConfigurationFactory.ParseString(File.ReadAllText(path));
    }

    /// <summary>A HOCON quoted string of <paramref name="value"/> (connection strings may hold quotes and backslashes).</summary>
    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>Over TLS Akka.Remote addresses are akka.ssl.tcp://: a seed given as akka.tcp:// is meant the same node.</summary>
    private static string SeedAddress(string seed, bool tls)
    {
        var clean = seed.Replace("\"", "", StringComparison.Ordinal).Trim();
        return tls && clean.StartsWith("akka.tcp://", StringComparison.Ordinal) ? "akka.ssl.tcp://" + clean["akka.tcp://".Length..] : clean;
    }
}

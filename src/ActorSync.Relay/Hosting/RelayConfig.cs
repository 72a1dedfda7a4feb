using Akka.Configuration;
using Akka.Persistence.Sql;
using ActorSync.Peer.Hosting;

namespace ActorSync.Relay.Hosting;

/// <summary>
/// A relay node's configuration: config/relay.hocon beside the binaries (and an optional user file)
/// over the Akka.Persistence.Sql defaults, with ports, seeds and the journal filled in.
/// </summary>
public static class RelayConfig
{
    public static Config Load(RelayHome home, RelayOptions options)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "config", "relay.hocon");
        if (!File.Exists(shipped)) throw new FileNotFoundException("config/relay.hocon is missing beside the binaries", shipped);
        var config = ConfigurationFactory.ParseString(File.ReadAllText(shipped));
        if (options.ConfigFile is not null) config = ConfigurationFactory.ParseString(File.ReadAllText(options.ConfigFile)).WithFallback(config);
        var seeds = string.Join(", ", (options.Seeds ?? []).Select(s => "\"" + s.Replace("\"", "", StringComparison.Ordinal) + "\""));
        var (provider, journal, snapshots) = Journal(home, options.Journal);
        if (provider == "SQLite.MS")
        {
            PeerConfig.EnsureWal(journal);
            PeerConfig.EnsureWal(snapshots);
            journal = PeerConfig.ConnectionString(journal);
            snapshots = PeerConfig.ConnectionString(snapshots);
        }
        var overrides = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.port = {{options.ClusterPort}}
            akka.cluster.seed-nodes = [{{seeds}}]
            akka.persistence.journal.sql.provider-name = "{{provider}}"
            akka.persistence.journal.sql.connection-string = "{{journal.Replace("\"", "\\\"", StringComparison.Ordinal)}}"
            akka.persistence.snapshot-store.sql.provider-name = "{{provider}}"
            akka.persistence.snapshot-store.sql.connection-string = "{{snapshots.Replace("\"", "\\\"", StringComparison.Ordinal)}}"
            """);
        return overrides.WithFallback(config).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    private static (string Provider, string Journal, string Snapshots) Journal(RelayHome home, string? spec)
    {
        if (spec is null) return ("SQLite.MS", home.JournalDatabase, home.SnapshotDatabase);
        if (spec.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            var path = spec["sqlite:".Length..];
            return ("SQLite.MS", path, path + ".snapshots");
        }
        if (spec.StartsWith("postgres:", StringComparison.Ordinal))
        {
            var connection = spec["postgres:".Length..];
            return ("PostgreSQL.15", connection, connection);
        }
        throw new ArgumentException("--journal is sqlite:PATH or postgres:CONNECTION");
    }
}

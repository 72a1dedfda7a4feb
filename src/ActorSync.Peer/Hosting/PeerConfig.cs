using Akka.Configuration;
using Akka.Persistence.Sql;
using Microsoft.Data.Sqlite;

namespace ActorSync.Peer.Hosting;

/// <summary>
/// Builds a peer's configuration: config/peer.hocon (shipped beside the binaries, or a file given
/// by the user) over Akka.Persistence.Sql's defaults, with the SQLite files of the home filled in.
/// </summary>
public static class PeerConfig
{
    public static Config Load(string journalPath, string snapshotPath, string? overrideFile = null)
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "config", "peer.hocon");
        if (!File.Exists(shipped)) throw new FileNotFoundException("config/peer.hocon is missing beside the binaries", shipped);
        var config = ConfigurationFactory.ParseString(File.ReadAllText(shipped));
        var user = overrideFile ?? Environment.GetEnvironmentVariable("ACTORSYNC_PEER_CONFIG");
        if (user is not null) config = ConfigurationFactory.ParseString(File.ReadAllText(user)).WithFallback(config);
        var paths = ConfigurationFactory.ParseString($$"""
            akka.persistence.journal.sql.connection-string = "{{ConnectionString(journalPath)}}"
            akka.persistence.snapshot-store.sql.connection-string = "{{ConnectionString(snapshotPath)}}"
            """);
        return paths.WithFallback(config).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    /// <summary>Never Cache=Shared with WAL (it locks tables, shared/FACTS.md).</summary>
    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();

    /// <summary>WAL cannot be set in a connection string; set once on the file, it sticks.</summary>
    public static void EnsureWal(string path)
    {
        using var connection = new SqliteConnection(ConnectionString(path));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL;";
        command.ExecuteNonQuery();
    }
}

using System.Data.Common;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using LinqToDB.Interceptors;

namespace ActorSync.Peer.Hosting;

/// <summary>
/// Lets Akka.Persistence.Sql batch journal writes on SQLite. Microsoft.Data.Sqlite has no real
/// async I/O: its *Async methods run to completion on the calling thread. The journal's write
/// stream (Source.Queue -> BatchWeighted(batch-size) -> SelectAsync(parallelism)) therefore ran each
/// INSERT and its COMMIT (an fsync) inside the stream's actor, so the queue never backed up and
/// every event went to disk in its own transaction (measured: 1 row per INSERT, ~1.5k events/s
/// with 1,000 mailboxes writing at once). Yielding when linq2db opens a connection moves the
/// write off that actor: while one transaction commits, the next writes queue up and go as one
/// multi-row INSERT in one transaction (up to batch-size rows). Peers and relay nodes on SQLite
/// both use it; PostgreSQL (Npgsql is truly asynchronous) batches without it.
/// </summary>
public static class AsyncSqliteJournal
{
    public const string JournalPluginId = "akka.persistence.journal.sql";
    public const string SqliteProvider = "SQLite.MS";

    /// <summary>The system's setup, with the batching journal connection when the journal is on SQLite.</summary>
    public static ActorSystemSetup Apply(ActorSystemSetup setup, Akka.Configuration.Config config)
    {
        var journal = config.GetConfig(JournalPluginId);
        return journal.GetString("provider-name") == SqliteProvider ? setup.And(For(SqliteProvider, journal.GetString("connection-string"))) : setup;
    }

    /// <summary>The setup giving the SQL journal its connection with <see cref="YieldOnOpen"/>.</summary>
    public static Setup For(string providerName, string connectionString)
    {
        var setup = new MultiDataOptionsSetup();
        setup.AddDataOptions(JournalPluginId,
            new DataOptions().UseConnectionString(providerName, connectionString).UseInterceptor(YieldOnOpen.Instance));
        return setup;
    }

    private sealed class YieldOnOpen : IConnectionInterceptor
    {
        public static readonly YieldOnOpen Instance = new();

        public void ConnectionOpening(ConnectionEventData eventData, DbConnection connection) { }

        public async Task ConnectionOpeningAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken) =>
            await Task.Yield();

        public void ConnectionOpened(ConnectionEventData eventData, DbConnection connection) { }

        public Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken) =>
            Task.CompletedTask;
    }
}

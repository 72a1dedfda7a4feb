using Akka.Actor;
using Akka.Configuration;
using ActorSync.Peer.Hosting;
using ActorSync.Relay.Hosting;
using ActorSync.Relay.Tests.Mailboxes;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Relay.Tests.Hosting;

/// <summary>
/// A relay node warms its journal up before it takes devices: the first mailbox a device attaches
/// after a restart is then read at once, instead of waiting for the journal plugin to start.
/// </summary>
public sealed class JournalWarmUpSpecs(ITestOutputHelper output) : MailboxSpec(MailboxFiles.Create(), "warm-up", output)
{
    [Fact]
    public async Task Warm_up_should_open_the_journal_and_create_its_tables_before_any_mailbox()
    {
        var journal = Path.Combine(Files.Root, "journal.db");
        Assert.Empty(Tables(journal));

        Assert.True(await JournalWarmUp.RunAsync(Sys, Patience));

        Assert.Contains("journal", Tables(journal));
    }

    [Fact]
    public async Task Warm_up_should_report_a_journal_that_cannot_be_opened_without_throwing()
    {
        var missing = Path.Combine(Files.Root, "no-such-folder", "journal.db");
        var broken = ConfigurationFactory.ParseString(
            $"akka.persistence.journal.sql.connection-string = \"{PeerConfig.ConnectionString(missing)}\"").WithFallback(Files.Config);
        using var system = ActorSystem.Create("broken-journal", broken);
        try
        {
            // False whether the recovery fails or never answers: the node starts anyway, with a warning.
            Assert.False(await JournalWarmUp.RunAsync(system, TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task Warm_up_should_stop_waiting_when_the_start_is_cancelled()
    {
        var missing = Path.Combine(Files.Root, "no-such-folder", "journal.db");
        var broken = ConfigurationFactory.ParseString(
            $"akka.persistence.journal.sql.connection-string = \"{PeerConfig.ConnectionString(missing)}\"").WithFallback(Files.Config);
        using var system = ActorSystem.Create("cancelled-warm-up", broken);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        try
        {
            // An hour's timeout: only the cancellation can end this wait.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => JournalWarmUp.RunAsync(system, TimeSpan.FromHours(1), cancelled.Token));
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static List<string> Tables(string file)
    {
        using var connection = new SqliteConnection(PeerConfig.ConnectionString(file));
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }
}

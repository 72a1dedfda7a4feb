using System.Security.Cryptography;
using Akka.Configuration;
using Akka.Persistence.Sql;
using ActorSync.Core.Identity;
using ActorSync.Peer.Hosting;
using ActorSync.Protocol;
using ActorSync.Protocol.Relay;
using ActorSync.Relay.Mailboxes;
using Google.Protobuf;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace ActorSync.Relay.Tests.Mailboxes;

/// <summary>
/// Mailbox actor specs run one at a time: each owns one or two ActorSystems on SQLite, and on two
/// loaded cores several starting at once starve the thread pool (shared/FACTS.md).
/// </summary>
[CollectionDefinition(Name)]
public sealed class MailboxActorSpecsCollection
{
    public const string Name = "Mailbox actor specs (one ActorSystem at a time)";
}

/// <summary>
/// A relay's persistence for one spec: journal and snapshot SQLite files (WAL, like a peer's) in a
/// temp folder, and the HOCON that points Akka.Persistence.Sql at them with the protobuf journal
/// serializer. <see cref="Cluster"/> adds a one-node cluster with ddata sharding on 127.0.0.1.
/// </summary>
internal sealed class MailboxFiles : IDisposable
{
    private MailboxFiles(string root, Config config)
    {
        Root = root;
        Config = config;
    }

    public string Root { get; }
    public Config Config { get; }

    public static MailboxFiles Create(bool cluster = false)
    {
        var root = Path.Combine(Path.GetTempPath(), "actorsync-mailbox-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var journal = Path.Combine(root, "journal.db");
        var snapshots = Path.Combine(root, "snapshots.db");
        PeerConfig.EnsureWal(journal);
        PeerConfig.EnsureWal(snapshots);
        var config = ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = INFO
              stdout-loglevel = WARNING
              actor {
                serializers {
                  actorsync = "ActorSync.Protocol.JournalSerializer, ActorSync.Protocol"
                }
                serialization-bindings {
                  "Google.Protobuf.IMessage, Google.Protobuf" = actorsync
                }
                serialization-identifiers {
                  "ActorSync.Protocol.JournalSerializer, ActorSync.Protocol" = 4711
                }
              }
              persistence {
                journal {
                  plugin = "akka.persistence.journal.sql"
                  sql {
                    provider-name = "SQLite.MS"
                    connection-string = "{{PeerConfig.ConnectionString(journal)}}"
                    parallelism = 1
                    read-isolation-level = read-uncommitted
                    auto-initialize = true
                  }
                }
                snapshot-store {
                  plugin = "akka.persistence.snapshot-store.sql"
                  sql {
                    provider-name = "SQLite.MS"
                    connection-string = "{{PeerConfig.ConnectionString(snapshots)}}"
                    read-isolation-level = read-uncommitted
                    auto-initialize = true
                  }
                }
              }
              test {
                single-expect-default = 30s
                default-timeout = 30s
              }
            }
            """);
        if (cluster) config = ConfigurationFactory.ParseString(ClusterConfig).WithFallback(config);
        return new MailboxFiles(root, config.WithFallback(SqlPersistence.DefaultConfiguration));
    }

    private const string ClusterConfig = """
        akka {
          actor.provider = cluster
          remote.dot-netty.tcp {
            hostname = "127.0.0.1"
            port = 0
          }
          cluster {
            sharding {
              state-store-mode = ddata
              remember-entities = off
              # Mailboxes passivate themselves when empty and unattached (MailboxSettings.PassivateAfter).
              passivate-idle-entity-after = off
            }
          }
        }
        """;

    /// <summary>The same files with <paramref name="overrides"/> laid over the config.</summary>
    public MailboxFiles WithConfig(Config overrides) => new(Root, overrides.WithFallback(Config));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Base of the mailbox actor specs: a TestKit whose ActorSystem persists to this spec's own SQLite files.</summary>
[Collection(MailboxActorSpecsCollection.Name)]
public abstract class MailboxSpec : Akka.TestKit.Xunit2.TestKit
{
    static MailboxSpec()
    {
        // Blocking TestKit start-up on two cores otherwise waits for the pool to grow (shared/FACTS.md).
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(io, 16));
    }

    private protected MailboxSpec(MailboxFiles files, string system, ITestOutputHelper output) : base(files.Config, system, output) => Files = files;

    private protected MailboxFiles Files { get; }

    /// <summary>Generous: SQLite writes and cluster start-up on two loaded cores.</summary>
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
    private long _ticks = start.UtcTicks;

    public DateTimeOffset Now
    {
        get => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _ticks, value.UtcTicks);
    }

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Ids and messages for mailbox specs.</summary>
internal static class Mail
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    public static DeviceId NewDevice() => new(Fingerprint.FromBytes(RandomNumberGenerator.GetBytes(Fingerprint.Size)));

    public static ByteString NewId() => ByteString.CopyFrom(RandomNumberGenerator.GetBytes(EnvelopeId.Size));

    public static ByteString Payload(string text) => ByteString.CopyFromUtf8(text);

    public static MailboxStore Store(DeviceId recipient, DeviceId sender, ByteString id, ByteString payload) =>
        new() { Recipient = recipient.ToWire(), Sender = sender.ToWire(), MessageId = id, Payload = payload };

    public static MailboxDelivered Delivered(DeviceId recipient, params ByteString[] ids)
    {
        var delivered = new MailboxDelivered { Recipient = recipient.ToWire() };
        delivered.MessageIds.AddRange(ids);
        return delivered;
    }

    public static MailboxAttach Attach(DeviceId recipient) => new() { Recipient = recipient.ToWire(), Session = "spec" };

    public static MailboxDetach Detach(DeviceId recipient) => new() { Recipient = recipient.ToWire() };
}

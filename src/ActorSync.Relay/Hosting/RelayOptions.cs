namespace ActorSync.Relay.Hosting;

/// <summary>Command-line choices of `actorsync relay`; the rest is config/relay.hocon.</summary>
/// <param name="Port">Device front end port on 127.0.0.1 (0: any free one).</param>
/// <param name="ClusterPort">Akka.Remote port for the other relay nodes (0: any free one).</param>
/// <param name="Seeds">Cluster seed node addresses (akka.tcp://actorsync-relay@HOST:PORT); none: join itself.</param>
/// <param name="Journal">
/// "sqlite:PATH" (default: relay-journal.db in the home; one node) or "postgres:CONNECTION" (a Npgsql
/// connection string; the journal a multi-node cluster shares, so that a crashed node's mailboxes
/// recover on a survivor; loads config/relay.postgres.hocon over config/relay.hocon).
/// </param>
/// <param name="ClusterTls">
/// A folder holding the cluster's node certificate (created by the first node that finds none):
/// every node of one cluster is given the same folder's certificate, and Akka.Remote then runs over
/// mutual TLS accepting only that certificate's key. Null: plain TCP (one node, or a trusted network).
/// </param>
public sealed record RelayOptions(
    string Home,
    int Port = 0,
    int ClusterPort = 0,
    IReadOnlyList<string>? Seeds = null,
    string? Journal = null,
    string? Http = null,
    string? ConfigFile = null,
    string? ClusterTls = null);

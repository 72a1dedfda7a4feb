using Akka.Actor;
using ActorSync.Peer.Api;
using ActorSync.Peer.Home;
using ActorSync.Peer.Hosting;
using ActorSync.Simulation.Network;

namespace ActorSync.Simulation.Running;

/// <summary>
/// One simulated device: a real <see cref="PeerHost"/> (actors, SQLite journal in its home) whose
/// device links go through the simulated network. Crashing disposes the host; restarting starts a
/// new one from the same home, at the same simulated address.
/// </summary>
internal sealed class SimPeer
{
    private readonly SimulatedNetwork _network;
    private readonly string _config;

    public SimPeer(int index, string root, SimulatedNetwork network, IReadOnlyList<string> relays, string akkaLogLevel, TimeSpan skew = default,
        bool grpc = false, int pruneAfter = 0)
    {
        Skew = skew;
        Grpc = grpc;
        Index = index;
        Name = "p" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        HomePath = Path.Combine(root, Name);
        _network = network;
        if (!PeerHome.Exists(HomePath)) PeerHome.Init(HomePath, Name, relays).Dispose();
        _config = Path.Combine(HomePath, "sim.hocon");
        // LAN presence off (the simulated network is the only way between peers); short intervals so a run heals fast.
        File.WriteAllText(_config, $"""
            actorsync.peer.presence.lan.enabled = off
            actorsync.peer.anti-entropy-interval = 500ms
            actorsync.peer.links.dial-backoff-max = 1s
            actorsync.peer.join-timeout = 5s
            akka.loglevel = {akkaLogLevel}
            akka.stdout-loglevel = OFF
            """ + (pruneAfter > 0 ? $"\nactorsync.workspace.prune-after = {pruneAfter}\nactorsync.workspace.snapshot-every = {pruneAfter * 5}\n" : ""));
    }

    public int Index { get; }

    /// <summary>How far this device's wall clock is off (its deltas' hybrid logical clock starts from it).</summary>
    public TimeSpan Skew { get; }

    /// <summary>Links over real gRPC on 127.0.0.1 (TLS, pinned device certificates) instead of the simulated network.</summary>
    public bool Grpc { get; }

    /// <summary>The real listen address once a gRPC peer first started (it keeps its port across restarts).</summary>
    private string? _grpcAddress;
    public string Name { get; }
    public string HomePath { get; }
    public PeerHost? Host { get; private set; }
    public bool Up => Host is not null;
    public IPeerFacade Api => Host?.Facade ?? throw new InvalidOperationException(Name + " is down");
    public string Address => Grpc ? _grpcAddress ?? throw new InvalidOperationException(Name + " has not started yet") : _network.AddressOf(Name);

    /// <summary>Account id, device id and card, read once the peer first ran.</summary>
    public string Account { get; private set; } = "";
    public string Card { get; private set; } = "";
    public Core.Identity.ContactCard? ParsedCard { get; private set; }

    public async Task StartAsync(CancellationToken ct)
    {
        if (Host is not null) return;
        var clock = Skew == TimeSpan.Zero ? null : new SkewedClock(Skew);
        if (Grpc)
        {
            var options = new PeerOptions(HomePath, _grpcAddress ?? "127.0.0.1:0", "127.0.0.1:0", null, _config);
            Host = await PeerHost.StartAsync(options, transport: null, clock: clock, ct: ct).ConfigureAwait(false);
            _grpcAddress ??= Host.ListenAddress;
            _network.Note("listen", $"{Name} at {_grpcAddress} (gRPC)");
        }
        else
        {
            var options = new PeerOptions(HomePath, Address, "127.0.0.1:0", null, _config);
            Host = await PeerHost.StartAsync(options, (home, pins) => _network.Transport(Name, home.Tls.Pin, pins), clock: clock, ct: ct).ConfigureAwait(false);
        }
        Account = Host.Home.Account.Id.ToString();
        ParsedCard = Host.Home.Card;
        Card = ParsedCard.ToText();
    }

    public async Task StopAsync()
    {
        var host = Host;
        if (host is null) return;
        Host = null;
        await host.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Liveness: the actor system runs and /user/device answers.</summary>
    public async Task<string?> ProblemAsync()
    {
        if (Host is not { } host) return Name + " is down";
        if (host.System.WhenTerminated.IsCompleted) return Name + "'s actor system terminated";
        try
        {
            var id = await host.Device.Ask<ActorIdentity>(new Identify(Name), TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            if (id.Subject is null) return Name + "'s device actor is gone";
            var workspaces = await host.System.ActorSelection("/user/device/workspaces").Ask<ActorIdentity>(new Identify(Name), TimeSpan.FromSeconds(10))
                .ConfigureAwait(false);
            return workspaces.Subject is null ? Name + "'s workspace manager is gone" : null;
        }
        catch (AskTimeoutException)
        {
            return Name + "'s device actor does not answer";
        }
    }
}

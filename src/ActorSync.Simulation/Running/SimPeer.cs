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

    public SimPeer(int index, string root, SimulatedNetwork network, IReadOnlyList<string> relays, string akkaLogLevel)
    {
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
            """);
    }

    public int Index { get; }
    public string Name { get; }
    public string HomePath { get; }
    public PeerHost? Host { get; private set; }
    public bool Up => Host is not null;
    public IPeerFacade Api => Host?.Facade ?? throw new InvalidOperationException(Name + " is down");
    public string Address => _network.AddressOf(Name);

    /// <summary>Account id, device id and card, read once the peer first ran.</summary>
    public string Account { get; private set; } = "";
    public string Card { get; private set; } = "";
    public Core.Identity.ContactCard? ParsedCard { get; private set; }

    public async Task StartAsync(CancellationToken ct)
    {
        if (Host is not null) return;
        var options = new PeerOptions(HomePath, Address, "127.0.0.1:0", null, _config);
        Host = await PeerHost.StartAsync(options, (home, pins) => _network.Transport(Name, home.Tls.Pin, pins), ct: ct).ConfigureAwait(false);
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

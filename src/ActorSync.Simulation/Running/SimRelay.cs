using ActorSync.Relay.Hosting;

namespace ActorSync.Simulation.Running;

/// <summary>
/// The scenario's relay node: one real <see cref="RelayHost"/> (a one-node cluster, SQLite journal in
/// its home, gRPC on 127.0.0.1) that every peer names. Crashing disposes the host; restarting starts
/// a new one from the same home on the same port, so peers reach it again at the address they hold.
/// </summary>
internal sealed class SimRelay : IAsyncDisposable
{
    private readonly string _home;
    private readonly string _config;
    private int _port;

    public SimRelay(string root, string akkaLogLevel)
    {
        _home = Path.Combine(root, "relay");
        Directory.CreateDirectory(_home);
        _config = Path.Combine(root, "relay.hocon");
        File.WriteAllText(_config, $"akka.loglevel = {akkaLogLevel}\nakka.stdout-loglevel = OFF\n");
    }

    public string HomePath => _home;
    public RelayHost? Host { get; private set; }
    public bool Up => Host is not null;

    /// <summary>Its address (pin included) as peers name it; known once it first started.</summary>
    public string Address { get; private set; } = "";

    public async Task StartAsync(CancellationToken ct)
    {
        if (Host is not null) return;
        Host = await RelayHost.StartAsync(new RelayOptions(_home, Port: _port, ConfigFile: _config), ct: ct).ConfigureAwait(false);
        _port = Host.Address.Port;
        Address = Host.Address.ToString();
    }

    public async Task StopAsync()
    {
        var host = Host;
        if (host is null) return;
        Host = null;
        await host.DisposeAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

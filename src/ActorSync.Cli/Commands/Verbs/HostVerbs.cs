using System.Globalization;
using ActorSync.Cli.Demo;
using ActorSync.Peer.Api;
using ActorSync.Peer.Home;
using ActorSync.Peer.Hosting;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>Verbs about this device itself: create an identity, run the peer, show who it is.</summary>
internal static class HostVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("init", "--name NAME [--relay https://HOST:PORT#PIN | https://HOST:PORT/gateway#PIN]...", "create this device's identity and config in DIR; prints the account id",
            VerbShape.Of(0, 0, ["name", "relay"]), Init),
        new("peer", "[--listen HOST:PORT|off] [--api HOST:PORT] [--relay https://HOST:PORT#PIN]... [--config FILE]",
            "run the peer in the foreground until SIGINT/SIGTERM (the API address and token are written into DIR); --listen off: no direct links in",
            VerbShape.Of(0, 0, ["listen", "api", "relay", "config"]), Peer),
        new("relay", "[--port P] [--http HOST:PORT] [--cluster-port P] [--seed akka.tcp://actorsync-relay@HOST:PORT]... [--journal sqlite:PATH|postgres:CONN] [--cluster-tls DIR] [--config FILE]",
            "run a relay node in the foreground: store and forward for offline devices; prints the relay address devices are given (and, with --http, its HTTP/1.1 gateway's)",
            VerbShape.Of(0, 0, ["port", "cluster-port", "seed", "journal", "http", "config", "cluster-tls"]), Relay),
        new("info", "[--json]", "the running peer's account, name, device and listen address",
            VerbShape.Of(0, 0, flags: ["json"]), Info),
        new("card", "", "this account's contact card, one line to give to others (they run: actorsync contact add)",
            VerbShape.Of(0, 0), Card),
        new("demo", "[SEED]", "three replicas of one workspace in one process edit concurrently and converge",
            VerbShape.Of(0, 1), Demo, NeedsHome: false),
    ];

    private static Task<int> Init(Invocation inv)
    {
        var name = inv.Args.Value("name") ?? throw new UsageException("--name NAME is required");
        var home = inv.Home;
        if (PeerHome.Exists(home)) throw new CliException($"{home} already holds an identity");
        using var created = PeerHome.Init(home, name, inv.Args.Values("relay"));
        inv.Out.WriteLine(created.Account.Id.ToString());
        return Task.FromResult(ExitCodes.Ok);
    }

    private static async Task<int> Peer(Invocation inv)
    {
        var home = inv.Home;
        if (!PeerHome.Exists(home)) throw new CliException($"{home} holds no ActorSync identity (run: actorsync init --home {home} --name NAME)");
        var relays = inv.Args.Values("relay");
        var options = new PeerOptions(
            home,
            inv.Args.Value("listen") is "off" ? null : inv.Args.Value("listen") ?? "127.0.0.1:0",
            inv.Args.Value("api") ?? "127.0.0.1:0",
            relays.Count > 0 ? relays : null,
            inv.Args.Value("config"));
        // The token is the signal source (Program wires SIGINT/SIGTERM to it): PeerHost stops cleanly on it.
        return await PeerHost.RunAsync(options, inv.Out, inv.Ct);
    }

    private static async Task<int> Relay(Invocation inv)
    {
        static int Port(string? text, string what) =>
            text is null ? 0
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p <= 65535 ? p
            : throw new UsageException($"--{what} takes a port number");
        var seeds = inv.Args.Values("seed");
        var options = new ActorSync.Relay.Hosting.RelayOptions(inv.Home, Port(inv.Args.Value("port"), "port"),
            Port(inv.Args.Value("cluster-port"), "cluster-port"), seeds.Count > 0 ? seeds : null, inv.Args.Value("journal"),
            inv.Args.Value("http"), inv.Args.Value("config"), inv.Args.Value("cluster-tls"));
        return await ActorSync.Relay.Hosting.RelayHost.RunAsync(options, inv.Out, inv.Ct);
    }

    private static async Task<int> Info(Invocation inv)
    {
        var info = await inv.Api.GetAsync<PeerInfo>("v1/info", inv.Ct);
        if (inv.Json) inv.PrintJson(info);
        else inv.Out.Write(Render.Info(info));
        return ExitCodes.Ok;
    }

    private static async Task<int> Card(Invocation inv)
    {
        var card = await inv.Api.GetAsync<CardView>("v1/card", inv.Ct);
        inv.Out.WriteLine(TextTable.Clean(card.Card));
        return ExitCodes.Ok;
    }

    private static Task<int> Demo(Invocation inv)
    {
        var seed = inv.Args.OptionalPositional(0) is { } text && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s)
            ? s
            : Environment.TickCount;
        return Task.FromResult(InProcessStory.Run(inv.Out, seed));
    }
}

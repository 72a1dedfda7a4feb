using System.Diagnostics;
using System.Text.RegularExpressions;
using ActorSync.Cli.Commands;
using ActorSync.Peer.Api;

namespace ActorSync.Cli.Bench;

/// <summary>
/// The processes of one benchmark scenario under one temporary folder: an optional relay node and
/// any number of peers, with the set-up every scenario shares (cards swapped, one workspace all
/// members joined). Disposing stops every process and deletes the folder.
/// </summary>
internal sealed partial class BenchWorld : IAsyncDisposable
{
    private readonly List<BenchPeer> _peers = [];

    private BenchWorld(string root) => Root = root;

    public string Root { get; }
    public IReadOnlyList<BenchPeer> Peers => _peers;
    public BenchProcess? Relay { get; private set; }
    public string? RelayAddress { get; private set; }

    public static BenchWorld Create()
    {
        var root = Path.Combine(Path.GetTempPath(), "actorsync-bench-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        return new BenchWorld(root);
    }

    /// <summary>Starts the relay node; again after <see cref="StopRelayAsync"/>, on the same port with the same journal.</summary>
    public async Task StartRelayAsync(CancellationToken ct)
    {
        var home = Path.Combine(Root, "relay");
        List<string> args = ["relay", "--home", home];
        if (RelayAddress is not null && ActorSync.Peer.Links.RelayAddress.TryParse(RelayAddress, out var known) && known is not null)
            args.AddRange(["--port", known.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var (process, ready) = await BenchProcess.StartAsync(args, Path.Combine(Root, "relay.log"), RelayLine(), ct);
        Relay = process;
        RelayAddress = ready.Groups[1].Value;
    }

    public async Task StopRelayAsync()
    {
        if (Relay is not null) await Relay.DisposeAsync();
        Relay = null;
    }

    /// <summary>Creates and starts <paramref name="count"/> peers (a few at a time: a 2-core machine starts .NET processes slowly in a crowd).</summary>
    public async Task<IReadOnlyList<BenchPeer>> StartPeersAsync(int count, CancellationToken ct, string prefix = "peer")
    {
        var relays = RelayAddress is null ? Array.Empty<string>() : [RelayAddress];
        var created = Enumerable.Range(_peers.Count, count).Select(i => BenchPeer.Create(Root, $"{prefix}{i:00}", relays)).ToList();
        _peers.AddRange(created);
        foreach (var batch in created.Chunk(4)) await Task.WhenAll(batch.Select(p => p.StartAsync(ct)));
        return created;
    }

    /// <summary>Every peer adds every other's card with its link address.</summary>
    public static async Task ExchangeCardsAsync(IReadOnlyList<BenchPeer> peers, CancellationToken ct)
    {
        var cards = await Task.WhenAll(peers.Select(p => p.CardAsync(ct)));
        await Parallel.ForEachAsync(Enumerable.Range(0, peers.Count), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct },
            async (i, token) =>
            {
                for (var j = 0; j < peers.Count; j++)
                    if (j != i) await peers[i].AddContactAsync(cards[j], peers[j].LinkAddress, token);
            });
    }

    /// <summary>The first peer and every other swap cards (a star: members learn each other from the workspace).</summary>
    public static async Task ExchangeCardsWithFirstAsync(IReadOnlyList<BenchPeer> peers, CancellationToken ct)
    {
        var owner = peers[0];
        var ownerCard = await owner.CardAsync(ct);
        await Parallel.ForEachAsync(peers.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (member, token) =>
        {
            await owner.AddContactAsync(await member.CardAsync(token), member.LinkAddress, token);
            await member.AddContactAsync(ownerCard, owner.LinkAddress, token);
        });
    }

    /// <summary>The first peer creates a workspace and invites the others, who accept; returns once all hold the first copy.</summary>
    public static async Task<string> WorkspaceAsync(IReadOnlyList<BenchPeer> peers, string name, CancellationToken ct)
    {
        var owner = peers[0];
        var ws = await owner.CreateWorkspaceAsync(name, ct);
        foreach (var member in peers.Skip(1))
            await owner.Api.SendAsync(HttpMethod.Post, PeerApiClient.Route("v1", "workspaces", ws, "invite"), new InviteRequest(member.Account, "participant"), ct);
        await Parallel.ForEachAsync(peers.Skip(1), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (member, token) =>
        {
            await Until(async () => (await member.Api.GetAsync<IReadOnlyList<InvitationView>>("v1/invitations", token)).Any(i => i.Workspace == ws),
                $"{member.Name} to receive the invitation", token);
            await member.Api.SendUnboundedAsync<JoinProgress>(HttpMethod.Post, PeerApiClient.Route("v1", "workspaces", ws, "accept"), null, token);
            await Until(async () => (await member.Api.GetAsync<JoinProgress>(PeerApiClient.Route("v1", "workspaces", ws, "join"), token)).Complete,
                $"{member.Name} to hold the first copy", token);
        });
        await ConvergedAsync(peers, ws, ct);
        return ws;
    }

    /// <summary>Waits until every peer shows the same state hash for <paramref name="ws"/>; returns it.</summary>
    public static async Task<string> ConvergedAsync(IReadOnlyList<BenchPeer> peers, string ws, CancellationToken ct, TimeSpan? patience = null)
    {
        string? hash = null;
        await Until(async () =>
        {
            var hashes = await Task.WhenAll(peers.Select(p => p.ShowAsync(ws, ct)));
            hash = hashes[0].StateHash;
            return hashes.All(h => h.StateHash == hash);
        }, "every peer to converge", ct, patience);
        return hash!;
    }

    /// <summary>A bounded poll (benchmarks wait on conditions too; the wait is part of what is measured only where a scenario says so).</summary>
    public static async Task Until(Func<Task<bool>> condition, string what, CancellationToken ct, TimeSpan? patience = null, int pauseMs = 20)
    {
        var clock = Stopwatch.StartNew();
        var limit = patience ?? TimeSpan.FromMinutes(5);
        while (!await condition())
        {
            if (clock.Elapsed > limit) throw new TimeoutException($"benchmark: still waiting after {limit.TotalSeconds:F0} s for {what}");
            await Task.Delay(pauseMs, ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_peers.Select(p => p.StopAsync()));
        if (Relay is not null) await Relay.DisposeAsync();
        // ACTORSYNC_BENCH_KEEP=1 keeps the processes' homes and logs for a look afterwards.
        if (Environment.GetEnvironmentVariable("ACTORSYNC_BENCH_KEEP") is null) try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [GeneratedRegex(@"\nrelay address: (\S+)\s*\n")]
    private static partial Regex RelayLine();
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace ActorSync.EndToEnd.Tests.Support;

/// <summary>
/// Peers of one test under one temp folder (a home each), with the steps every story shares: swap
/// cards, create a workspace, invite and accept, read state hashes, wait for convergence. Disposing
/// it kills every peer process it started, whatever happened in the test, then deletes the folder
/// (kept when ACTORSYNC_E2E_KEEP is set, for a look at the logs).
/// </summary>
public sealed class PeerCluster : IAsyncDisposable
{
    /// <summary>Generous: every wait is a poll of a condition, bounded by this, never a fixed sleep.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly List<PeerProcess> _peers = [];

    public PeerCluster()
    {
        Root = Path.Combine(Path.GetTempPath(), "actorsync-e2e-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }
    public IReadOnlyList<PeerProcess> Peers => _peers;

    /// <summary>A device with a fresh identity named <paramref name="name"/> (its peer not started).</summary>
    public async Task<PeerProcess> InitAsync(string name)
    {
        var peer = new PeerProcess(name, Path.Combine(Root, name.ToLowerInvariant()));
        _peers.Add(peer);
        await peer.InitAsync();
        return peer;
    }

    /// <summary>Devices with identities and running peers, started side by side.</summary>
    public async Task<PeerProcess[]> StartAsync(params string[] names)
    {
        var peers = new PeerProcess[names.Length];
        for (var i = 0; i < names.Length; i++) peers[i] = await InitAsync(names[i]);
        await Task.WhenAll(peers.Select(p => p.StartAsync()));
        return peers;
    }

    /// <summary>Every peer adds every other's card with its link address (`contact add CARD --address HOST:PORT`).</summary>
    public static async Task ExchangeCardsAsync(params PeerProcess[] peers)
    {
        var cards = await Task.WhenAll(peers.Select(async p => (await p.OkAsync("card")).LastLine));
        await Task.WhenAll(peers.Select(async (peer, i) =>
        {
            for (var j = 0; j < peers.Length; j++)
            {
                if (j == i) continue;
                if (peers[j].ListenOff) await peer.OkAsync("contact", "add", cards[j]);
                else await peer.OkAsync("contact", "add", cards[j], "--address", peers[j].LinkAddress);
            }
        }));
    }

    /// <summary>`ws create NAME` on <paramref name="owner"/>; its id.</summary>
    public static async Task<string> CreateWorkspaceAsync(PeerProcess owner, string name) =>
        (await owner.OkAsync("ws", "create", name)).LastLine;

    /// <summary>
    /// <paramref name="inviter"/> invites each guest with its role; each polls `ws invitations --json`
    /// until the invitation shows, then accepts (which returns once the first copy is in).
    /// </summary>
    public async Task InviteAndJoinAsync(PeerProcess inviter, string ws, params (PeerProcess Peer, string Role)[] invitees)
    {
        foreach (var (peer, role) in invitees) await inviter.OkAsync("ws", "invite", ws, peer.Account, "--role", role);
        await Task.WhenAll(invitees.Select(async invitee =>
        {
            await EventuallyAsync($"{invitee.Peer.Name} to see the invitation to {ws}",
                () => invitee.Peer.RunAsync("ws", "invitations", "--json"),
                r => r.ExitCode == 0 && JsonArray(r.Stdout).Any(i => i.GetProperty("workspace").GetString() == ws));
            var accepted = await invitee.Peer.OkAsync("ws", "accept", ws);
            if (!accepted.Stdout.Contains($"joined {ws}", StringComparison.Ordinal))
                throw new InvalidOperationException($"{invitee.Peer.Name} did not join: {accepted}");
        }));
    }

    public static async Task<string?> StateHashAsync(PeerProcess peer, string ws)
    {
        var show = await peer.RunAsync("ws", "show", ws, "--json");
        if (show.ExitCode != 0) return null;
        using var doc = JsonDocument.Parse(show.Stdout);
        return doc.RootElement.GetProperty("stateHash").GetString();
    }

    /// <summary>Waits until every given peer reports the same, non-empty stateHash for <paramref name="ws"/>; returns it.</summary>
    public async Task<string> ConvergedAsync(string ws, params PeerProcess[] peers)
    {
        var hashes = await EventuallyAsync($"{string.Join(", ", peers.Select(p => p.Name))} to agree on the state of {ws}",
            () => Task.WhenAll(peers.Select(p => StateHashAsync(p, ws))),
            h => h.All(x => x is { Length: 64 }) && h.Distinct().Count() == 1,
            h => string.Join(", ", peers.Select((p, i) => $"{p.Name}={h[i] ?? "(no answer)"}")));
        return hashes[0]!;
    }

    /// <summary>
    /// Polls <paramref name="observe"/> until <paramref name="done"/> holds, for at most
    /// <paramref name="timeout"/> (default <see cref="Patience"/>); on time-out the failure says what was
    /// last seen and shows the tail of every peer's log.
    /// </summary>
    public async Task<T> EventuallyAsync<T>(string what, Func<Task<T>> observe, Func<T, bool> done, Func<T, string>? describe = null,
        TimeSpan? timeout = null)
    {
        var limit = timeout ?? Patience;
        var clock = Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(200);
        var last = "(nothing yet)";
        while (true)
        {
            try
            {
                var value = await observe();
                if (done(value)) return value;
                last = describe is null ? value?.ToString() ?? "null" : describe(value);
            }
            catch (Exception e) when (e is CliFailedException or JsonException or InvalidOperationException or KeyNotFoundException or IOException)
            {
                last = e.GetType().Name + ": " + e.Message;
            }
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds} s waiting for {what}\nlast seen: {last}\n{Describe()}");
            }
            await Task.Delay(pause);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 1.5, 1000));
        }
    }

    /// <summary>Every peer's state and the tail of its log, for failure messages.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var peer in _peers) text.Append(peer.Describe()).Append('\n');
        return text.ToString();
    }

    public static List<JsonElement> JsonArray(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var peer in _peers) await peer.DisposeAsync();
        if (Environment.GetEnvironmentVariable("ACTORSYNC_E2E_KEEP") is { Length: > 0 }) return;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
                return;
            }
            catch (IOException)
            {
                // a file still held by a process that is just ending: try again shortly
                await Task.Delay(200);
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }
}

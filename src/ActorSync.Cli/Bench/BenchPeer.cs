using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using ActorSync.Cli.Commands;
using ActorSync.Peer.Api;
using ActorSync.Peer.Home;

namespace ActorSync.Cli.Bench;

/// <summary>A peer process of a benchmark and the local API client that drives it.</summary>
internal sealed partial class BenchPeer : IAsyncDisposable
{
    private BenchProcess? _process;
    private PeerApiClient? _api;

    private BenchPeer(string name, string home)
    {
        Name = name;
        Home = home;
    }

    public string Name { get; }
    public string Home { get; }
    public string? LinkAddress { get; private set; }
    public BenchProcess Process => _process ?? throw new InvalidOperationException($"{Name} is not running");
    public PeerApiClient Api => _api ?? throw new InvalidOperationException($"{Name} is not running");
    public string Account { get; private set; } = "";
    public string Device { get; private set; } = "";

    /// <summary>A new identity in <paramref name="root"/>/name whose designated relays are <paramref name="relays"/>.</summary>
    public static BenchPeer Create(string root, string name, IReadOnlyList<string> relays)
    {
        var home = Path.Combine(root, name);
        using (PeerHome.Init(home, name, relays)) { }
        // Benchmarks measure the sync paths: no LAN broadcast (50 peers would share 10 UDP ports).
        File.WriteAllText(Path.Combine(home, "bench.hocon"), "actorsync.peer.presence.lan.enabled = off\n");
        return new BenchPeer(name, home);
    }

    public async Task StartAsync(CancellationToken ct, bool listen = true)
    {
        var log = Path.Combine(Home, "peer.log");
        File.Delete(Path.Combine(Home, PeerHome.ApiAddressFile));
        var (process, ready) = await BenchProcess.StartAsync(
            ["peer", "--home", Home, "--listen", listen ? LinkAddress ?? "127.0.0.1:0" : "off", "--api", "127.0.0.1:0", "--config", Path.Combine(Home, "bench.hocon")],
            log, ReadyLine(), ct);
        _process = process;
        if (listen) LinkAddress = ready.Groups[1].Value;
        _api = PeerApiClient.ForHome(Home);
        var info = await _api.GetAsync<PeerInfo>("v1/info", ct);
        (Account, Device) = (info.Account, info.Device);
    }

    public async Task StopAsync()
    {
        _api?.Dispose();
        _api = null;
        if (_process is not null) await _process.DisposeAsync();
        _process = null;
    }

    public async Task<string> CardAsync(CancellationToken ct) => (await Api.GetAsync<CardView>("v1/card", ct)).Card;

    public Task AddContactAsync(string card, string? address, CancellationToken ct) =>
        Api.SendAsync<ContactView>(HttpMethod.Post, "v1/contacts", new AddContactRequest(card, address), ct);

    public async Task<string> CreateWorkspaceAsync(string name, CancellationToken ct) =>
        (await Api.SendAsync<CreatedId>(HttpMethod.Post, "v1/workspaces", new CreateWorkspaceRequest(name), ct)).Id;

    public async Task<string> PostAsync(string ws, string tool, string text, CancellationToken ct) =>
        (await Api.SendAsync<CreatedId>(HttpMethod.Post, PeerApiClient.Route("v1", "workspaces", ws, "tools", tool, "entries"),
            new EntryRequest(new Dictionary<string, string?> { ["text"] = text }), ct)).Id;

    public async Task<IReadOnlyList<string>> PostManyAsync(string ws, string tool, IEnumerable<string> texts, CancellationToken ct) =>
        (await Api.SendAsync<CreatedIds>(HttpMethod.Post, PeerApiClient.Route("v1", "workspaces", ws, "tools", tool, "entries", "batch"),
            new EntryBatchRequest(texts.Select(t => new EntryRequest(new Dictionary<string, string?> { ["text"] = t })).ToList()), ct)).Ids;

    /// <summary>Deltas applied in <paramref name="ws"/>: a cheap poll (no state hash, unlike <see cref="ShowAsync"/>).</summary>
    public async Task<long> AppliedAsync(string ws, CancellationToken ct) =>
        (await Api.GetAsync<JoinProgress>(PeerApiClient.Route("v1", "workspaces", ws, "join"), ct)).Deltas;

    /// <summary>When this run of the peer logged that its relay route came up (the peer's log clock is UTC).</summary>
    public DateTime? RelayConnectedAt()
    {
        var match = RelayConnectedLine().Match(Process.ReadLog(Process.LogStart));
        return match.Success
            ? DateTime.ParseExact(match.Groups[1].Value, "MM/dd/yyyy HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal)
            : null;
    }

    [GeneratedRegex(@"\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\][^\n]*Relay \S+ connected")]
    private static partial Regex RelayConnectedLine();

    /// <summary>The workspace actor's own recovery time (snapshot load and journal replay) in its last start, from the peer's log.</summary>
    public (double Millis, bool FromSnapshot, string Detail)? RecoveryOf(string ws)
    {
        var matches = RecoveredLine().Matches(Process.ReadLog(Process.LogStart)).Where(m => m.Groups[1].Value == ws).ToList();
        return matches.Count == 0 ? null : (double.Parse(matches[^1].Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture),
            matches[^1].Groups[3].Value == "a snapshot", matches[^1].Groups[4].Value.Trim());
    }

    [GeneratedRegex(@"Workspace (\S+) ready: \d+ deltas, recovered in (\d+) ms from (a snapshot|the journal)([^\n]*)")]
    private static partial Regex RecoveredLine();

    /// <summary>Whether the peer logged a saved snapshot of the workspace since it started.</summary>
    public bool SnapshotSaved(string ws) => Process.ReadLog(Process.LogStart).Contains($"Workspace {ws}: snapshot at ", StringComparison.Ordinal);

    /// <summary>Replaces the peer's extra configuration (read at its next start).</summary>
    public void Configure(string hocon) =>
        File.WriteAllText(Path.Combine(Home, "bench.hocon"), "actorsync.peer.presence.lan.enabled = off\n" + hocon + "\n");

    public Task<WorkspaceDetails> ShowAsync(string ws, CancellationToken ct) =>
        Api.GetAsync<WorkspaceDetails>(PeerApiClient.Route("v1", "workspaces", ws), ct);

    public Task<IReadOnlyList<FileInfoView>> FilesAsync(string ws, CancellationToken ct) =>
        Api.GetAsync<IReadOnlyList<FileInfoView>>(PeerApiClient.Route("v1", "workspaces", ws, "files"), ct);

    public Task<FileInfoView> PutFileAsync(string ws, string name, Stream content, CancellationToken ct) =>
        Api.UploadAsync<FileInfoView>(PeerApiClient.FileRoute(ws, name), content, ct);

    /// <summary>
    /// Starts reading this peer's alert stream for <paramref name="ws"/>: each alert's arrival time
    /// (Stopwatch ticks) goes into the channel, in order. Alerts are written once the change is
    /// durable here, so an arrival means "applied and persisted at this peer".
    /// </summary>
    public async Task<ChannelReader<long>> WatchEntriesAsync(string ws, CancellationToken ct)
    {
        var arrivals = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var api = PeerApiClient.ForHome(Home);
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var data in api.EventsAsync("v1/watch?ws=" + Uri.EscapeDataString(ws), ct, opened: () => started.TrySetResult()))
                {
                    var now = System.Diagnostics.Stopwatch.GetTimestamp();
                    var alert = JsonSerializer.Deserialize<AlertView>(data, ApiJson.Wire);
                    if (alert?.Text.Contains("added an entry", StringComparison.Ordinal) == true) arrivals.Writer.TryWrite(now);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or CliException or HttpRequestException or IOException)
            {
                started.TrySetException(e);
            }
            finally
            {
                started.TrySetException(new IOException("the alert stream ended before it opened"));
                arrivals.Writer.TryComplete();
                api.Dispose();
            }
        }, CancellationToken.None);
        // Subscribed once the response headers are in (a refused or broken stream throws here).
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        return arrivals.Reader;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    [GeneratedRegex(@"\nlisten: (\S+)\s*\n(?:.*\n)*?api: ")]
    private static partial Regex ReadyLine();
}

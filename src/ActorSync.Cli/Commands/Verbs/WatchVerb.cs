using System.Text.Json;
using ActorSync.Peer.Api;

namespace ActorSync.Cli.Commands.Verbs;

/// <summary>`actorsync watch`: the peer's alerts as they happen, until interrupted.</summary>
internal static class WatchVerb
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new("watch", "[--ws WS] [--json]",
            "stream alerts (entries, files, chat, members, presence, conflicts, rejected deltas) until Ctrl-C; --json prints one object per line",
            VerbShape.Of(0, 0, ["ws"], ["json"]), Watch),
    ];

    private static async Task<int> Watch(Invocation inv)
    {
        var ws = inv.Args.Value("ws");
        var route = "v1/watch" + (ws is null ? "" : "?ws=" + Uri.EscapeDataString(ws));
        try
        {
            await foreach (var data in inv.Api.EventsAsync(route, inv.Ct))
            {
                AlertView? alert;
                try
                {
                    alert = JsonSerializer.Deserialize<AlertView>(data, ApiJson.Wire);
                }
                catch (JsonException)
                {
                    await inv.Err.WriteLineAsync("actorsync watch: skipped an alert this CLI cannot read (are the peer and CLI the same version?)");
                    continue;
                }
                if (alert is null) continue;
                inv.Out.WriteLine(inv.Json ? JsonSerializer.Serialize(alert, ApiJson.Wire) : Render.Alert(alert));
                await inv.Out.FlushAsync(inv.Ct);
            }
        }
        catch (OperationCanceledException) when (inv.Ct.IsCancellationRequested)
        {
            // Watching ends by interruption: that is success.
            return ExitCodes.Ok;
        }
        throw new CliException("the peer ended the alert stream (did it stop?)");
    }
}

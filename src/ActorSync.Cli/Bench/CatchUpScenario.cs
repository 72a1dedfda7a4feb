using System.Diagnostics;

namespace ActorSync.Cli.Bench;

/// <summary>
/// Offline catch-up through a relay while the author is offline: Bob stops, Ann writes, Ann's
/// envelopes settle in Bob's mailbox and Ann stops; the relay stops, Bob starts, the relay starts
/// again, and Bob is timed from the moment his peer logs the relay route up until every change is
/// applied. Then Bob is restarted to time the recovery of the workspace from his journal, and again from a snapshot.
/// </summary>
internal static class CatchUpScenario
{
    public static async Task<IReadOnlyList<BenchMetric>> RunAsync(BenchScale scale, Action<string> progress, CancellationToken ct)
    {
        var metrics = new List<BenchMetric>();
        foreach (var (changes, target) in new[] { (scale.Of(500, 100), 0.3), (scale.Of(100_000, 1000), 5.0) })
        {
            await using var world = BenchWorld.Create();
            await world.StartRelayAsync(ct);
            var peers = await world.StartPeersAsync(2, ct);
            await BenchWorld.ExchangeCardsAsync(peers, ct);
            var ws = await BenchWorld.WorkspaceAsync(peers, "catch-up", ct);
            var (ann, bob) = (peers[0], peers[1]);
            var bobDevice = bob.Device;
            // No snapshot until the journal-only recovery is timed (one would be taken during the catch-up).
            bob.Configure("actorsync.workspace.snapshot-every = 100000000");
            await bob.StopAsync();

            var writing = Stopwatch.StartNew();
            // Written 100 to a request (the batch API): the scenario times the catch-up, not the writing.
            await Parallel.ForEachAsync(Enumerable.Range(0, changes / 100), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = ct },
                async (r, token) => await ann.PostManyAsync(ws, r % 2 == 0 ? "chat" : "discussion",
                    Enumerable.Range(0, 100).Select(i => $"while Bob is away {r}.{i}"), token));
            var expected = (await ann.ShowAsync(ws, ct)).Deltas;
            var hash = (await ann.ShowAsync(ws, ct)).StateHash;
            progress($"{changes} changes written in {writing.Elapsed.TotalSeconds:F1} s; waiting for them to settle at the relay");
            // Ann's `ws show` counts her envelopes waiting in Bob's mailbox: wait until it stops growing.
            int? last = null;
            var stable = Stopwatch.StartNew();
            await BenchWorld.Until(async () =>
            {
                var waiting = (await ann.ShowAsync(ws, ct)).Members.SelectMany(m => m.Devices).Single(d => d.Device == bobDevice).WaitingAtRelay;
                if (waiting != last) (last, stable) = (waiting, Stopwatch.StartNew());
                return waiting > 0 && stable.Elapsed > TimeSpan.FromSeconds(4);
            }, "Ann's envelopes to settle at the relay", ct, TimeSpan.FromMinutes(15), pauseMs: 250);
            await ann.StopAsync();
            progress($"{last} envelopes wait for Bob at the relay; Ann is offline");

            // Bob comes back while the relay is down, so that "reconnect" is a moment of its own: the
            // relay returns (same port, same journal) and Bob's redial brings his mailbox.
            await world.StopRelayAsync();
            var start = Stopwatch.StartNew();
            await bob.StartAsync(ct);
            await world.StartRelayAsync(ct);
            await BenchWorld.Until(async () => await bob.AppliedAsync(ws, ct) >= expected, "Bob to apply every change", ct, TimeSpan.FromMinutes(15),
                pauseMs: 5);
            var appliedAt = DateTime.UtcNow;
            if ((await bob.ShowAsync(ws, ct)).StateHash != hash) throw new InvalidOperationException("Bob caught up to a different state hash");
            // "From reconnect": from the moment Bob's peer logged its relay route up (its log clock and ours are the machine's).
            var connected = bob.RelayConnectedAt() ?? throw new InvalidOperationException("Bob's peer never logged its relay connection");
            var fromReconnect = (appliedAt - connected).TotalSeconds;
            progress($"Bob caught up {changes} changes {fromReconnect:F3} s after his relay route came up");
            metrics.Add(new("catchup", $"{changes} changes through the relay, author offline, from reconnect", fromReconnect, "s", target));

            // Recovery of the workspace from Bob's journal (no snapshot: replay every delta, signatures not checked again).
            await bob.StopAsync();
            var restart = Stopwatch.StartNew();
            await bob.StartAsync(ct);
            await BenchWorld.Until(async () => await bob.AppliedAsync(ws, ct) >= expected, "Bob's workspace to recover", ct, TimeSpan.FromMinutes(15), pauseMs: 5);
            metrics.Add(new("recovery", $"restart to ready, workspace of {expected} deltas, journal only", restart.Elapsed.TotalSeconds, "s",
                null, Note: "includes the process start"));
            var fromJournal = bob.RecoveryOf(ws) ?? throw new InvalidOperationException("Bob's peer did not log the workspace's recovery");
            metrics.Add(new("recovery", $"workspace of {expected} deltas recovered, journal only", fromJournal.Millis / 1000, "s",
                expected >= 100_000 ? 1.5 : null, Note: "the workspace actor's recovery"));

            // Then with a snapshot: Bob takes one at his next anti-entropy tick, and is restarted from it.
            bob.Configure("actorsync.workspace.snapshot-every = 100");
            await bob.StopAsync();
            await bob.StartAsync(ct);
            await BenchWorld.Until(() => Task.FromResult(bob.SnapshotSaved(ws)), "Bob's snapshot", ct, TimeSpan.FromMinutes(5), pauseMs: 50);
            await bob.StopAsync();
            await bob.StartAsync(ct);
            await BenchWorld.Until(async () => await bob.AppliedAsync(ws, ct) >= expected, "Bob's workspace to recover", ct, TimeSpan.FromMinutes(15), pauseMs: 5);
            var fromSnapshot = bob.RecoveryOf(ws) ?? throw new InvalidOperationException("Bob's peer did not log the workspace's recovery");
            if (!fromSnapshot.FromSnapshot) throw new InvalidOperationException("Bob's workspace did not recover from its snapshot");
            progress($"recovered from a snapshot in {fromSnapshot.Millis} ms {fromSnapshot.Detail}");
            if ((await bob.ShowAsync(ws, ct)).StateHash != hash) throw new InvalidOperationException("Bob recovered a different state hash from his snapshot");
            metrics.Add(new("recovery", $"workspace of {expected} deltas recovered, with snapshot (log unpruned)", fromSnapshot.Millis / 1000, "s",
                expected >= 100_000 ? 0.15 : null, Note: "the workspace actor's recovery; Ann (offline) has confirmed nothing, so Bob keeps every delta"));

            // Ann comes back and confirms what she wrote: Bob prunes (and snapshots), and is restarted from the pruned snapshot.
            bob.Configure("actorsync.workspace.snapshot-every = 100\nactorsync.workspace.prune-after = 100");
            await bob.StopAsync();
            await bob.StartAsync(ct);
            await ann.StartAsync(ct);
            await BenchWorld.Until(async () => (await bob.ShowAsync(ws, ct)).Retention is { } r && r.Pruned >= expected - 100,
                "Bob to prune what Ann confirms", ct, TimeSpan.FromMinutes(5), pauseMs: 100);
            await BenchWorld.Until(() => Task.FromResult(bob.SnapshotSaved(ws)), "Bob's pruned snapshot", ct, TimeSpan.FromMinutes(5), pauseMs: 50);
            await ann.StopAsync();
            await bob.StopAsync();
            await bob.StartAsync(ct);
            await BenchWorld.Until(async () => await bob.AppliedAsync(ws, ct) >= expected, "Bob's workspace to recover", ct, TimeSpan.FromMinutes(15), pauseMs: 5);
            var pruned = bob.RecoveryOf(ws) ?? throw new InvalidOperationException("Bob's peer did not log the workspace's recovery");
            if (!pruned.FromSnapshot) throw new InvalidOperationException("Bob's workspace did not recover from its snapshot");
            progress($"recovered from a pruned snapshot in {pruned.Millis} ms {pruned.Detail}");
            metrics.Add(new("recovery", $"workspace of {expected} deltas recovered, with snapshot (log pruned)", pruned.Millis / 1000, "s",
                expected >= 100_000 ? 0.15 : null, Note: "the workspace actor's recovery; every member confirmed the deltas"));
        }
        return metrics;
    }
}

using ActorSync.Benchmarks.Support;
using BenchmarkDotNet.Attributes;

namespace ActorSync.Benchmarks;

/// <summary>
/// <c>WorkspaceState.StateHash</c> (canonical bytes + SHA-256) of a workspace holding 1,000 entries
/// across the entry tools (a tenth of them edited), 20 files and three members.
/// </summary>
[MemoryDiagnoser]
public class StateHashBenchmarks
{
    public const int Entries = 1_000;
    private BenchWorkspace _ws = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ws = new BenchWorkspace();
        var bob = _ws.BobReplica;
        for (var i = 0; i < Entries; i++)
        {
            var (tool, op) = (i % 10) switch
            {
                0 or 1 or 2 or 3 => (SampleOps.Discussion, SampleOps.DiscussionPost(i)),
                4 or 5 or 6 => (SampleOps.Chat, SampleOps.ChatMessage(i)),
                7 => (SampleOps.Calendar, SampleOps.CalendarEvent(i)),
                8 => (SampleOps.Notepad, SampleOps.Note(i)),
                _ => i % 20 == 9 ? (SampleOps.Sketchpad, SampleOps.Stroke(i)) : (SampleOps.Pictures, SampleOps.Picture(i)),
            };
            var created = _ws.Author(bob, tool, op);
            // Edit every tenth entry (all discussion posts, whose schema has a text field).
            if (i % 10 == 0) _ws.Author(bob, tool, SampleOps.Edit(created.Id, i));
        }
        for (var i = 0; i < 20; i++) _ws.Author(bob, SampleOps.Files, SampleOps.File(i));
        var entries = new[] { SampleOps.Discussion, SampleOps.Chat, SampleOps.Calendar, SampleOps.Notepad, SampleOps.Sketchpad, SampleOps.Pictures }
            .Sum(t => bob.State.EntriesOf(t)?.All.Count() ?? 0);
        if (entries != Entries) throw new InvalidOperationException($"expected {Entries} entries, found {entries}");
    }

    [GlobalCleanup]
    public void Cleanup() => _ws.Dispose();

    [Benchmark(Description = "StateHash (1,000 entries)")]
    public string StateHash() => _ws.BobReplica.State.StateHash();
}

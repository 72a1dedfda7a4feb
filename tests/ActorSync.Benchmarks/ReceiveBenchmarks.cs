using ActorSync.Benchmarks.Support;
using ActorSync.Core.Deltas;
using ActorSync.Core.Replication;
using BenchmarkDotNet.Attributes;

namespace ActorSync.Benchmarks;

/// <summary>What bob's fresh deltas are, per row.</summary>
public enum ApplyCase
{
    Discussion,
    Chat,
    Calendar,
    Notepad,
    Sketchpad,
    Pictures,
    Files,
    EditEntry,
}

/// <summary>
/// The full <see cref="Replica.Receive"/> path (attribute, verify, causal checks, decrypt, rule
/// check, apply) of fresh deltas from another member. Bob pre-authors <see cref="Deltas"/> deltas of
/// one kind; every iteration hands them, in order, to a fresh replica of cat that holds only what
/// they depend on. Reported per delta (OperationsPerInvoke), so it includes the state growing
/// from 0 to <see cref="Deltas"/> entries.
/// </summary>
[MemoryDiagnoser]
public class ReceiveBenchmarks
{
    public const int Deltas = 3_000; // >100 ms per iteration, the least BenchmarkDotNet wants with IterationSetup

    private BenchWorkspace _ws = null!;
    private SealedDelta[] _base = [];
    private SealedDelta[] _fresh = [];
    private Replica? _target;

    [ParamsAllValues]
    public ApplyCase Case { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ws = new BenchWorkspace();
        var bob = _ws.BobReplica;
        if (Case == ApplyCase.EditEntry)
        {
            var post = _ws.Author(bob, SampleOps.Discussion, SampleOps.DiscussionPost(0));
            _base = bob.Log.ToArray();
            _fresh = Enumerable.Range(1, Deltas).Select(i => _ws.Author(bob, SampleOps.Discussion, SampleOps.Edit(post.Id, i))).ToArray();
        }
        else
        {
            _base = bob.Log.ToArray();
            _fresh = Enumerable.Range(1, Deltas).Select(i => Case switch
            {
                ApplyCase.Discussion => _ws.Author(bob, SampleOps.Discussion, SampleOps.DiscussionPost(i)),
                ApplyCase.Chat => _ws.Author(bob, SampleOps.Chat, SampleOps.ChatMessage(i)),
                ApplyCase.Calendar => _ws.Author(bob, SampleOps.Calendar, SampleOps.CalendarEvent(i)),
                ApplyCase.Notepad => _ws.Author(bob, SampleOps.Notepad, SampleOps.Note(i)),
                ApplyCase.Sketchpad => _ws.Author(bob, SampleOps.Sketchpad, SampleOps.Stroke(i)),
                ApplyCase.Pictures => _ws.Author(bob, SampleOps.Pictures, SampleOps.Picture(i)),
                ApplyCase.Files => _ws.Author(bob, SampleOps.Files, SampleOps.File(i)),
                _ => throw new ArgumentOutOfRangeException(nameof(Case), Case, null),
            }).ToArray();
        }
        // One dry run: every fresh delta must apply, or the benchmark would time rejections.
        FreshTarget();
        if (ReceiveAll() != Deltas) throw new InvalidOperationException($"{Case}: not every delta applied");
        DropTarget();
    }

    [IterationSetup]
    public void FreshTarget()
    {
        _target = _ws.Cat.Join(_ws.CatInvitation);
        BenchWorkspace.Deliver(_base, _target);
    }

    [IterationCleanup]
    public void DropTarget()
    {
        _target?.Dispose();
        _target = null;
    }

    [GlobalCleanup]
    public void Cleanup() => _ws.Dispose();

    [Benchmark(OperationsPerInvoke = Deltas, Description = "Replica.Receive (per delta)")]
    public int ReceiveAll()
    {
        var target = _target!;
        var applied = 0;
        foreach (var d in _fresh)
            if (target.Receive(d)[0].Status == ReceiveStatus.Applied) applied++;
        return applied;
    }
}

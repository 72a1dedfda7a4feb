using ActorSync.Core.Replication;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Convergence;

/// <summary>
/// ARCHITECTURE.md section 6, invariants 1 and 2 on the pure core: whatever the order, duplication
/// and loss of delivery, once the network heals every active member holds the same state and
/// every delta any member applied.
/// </summary>
public class ConvergenceProperties
{
    private static readonly Gen<(int Seed, int Members, int Steps)> Scenarios =
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[3, 7], Gen.Int[10, 80]);

    [Fact]
    public void Replicas_should_converge_whatever_the_delivery_order_duplication_and_loss() =>
        Scenarios.Sample(s =>
        {
            using var net = new RandomNetwork(s.Seed, s.Members);
            net.Run(s.Steps);
            net.HealAndQuiesce();
            var active = net.ActiveMembers();
            // Managers uninviting each other concurrently can leave nobody: then there is nothing left to converge.
            if (active.Count == 0) return;
            var hashes = active.Select(r => r.State.StateHash()).Distinct().ToList();
            Assert.True(hashes.Count == 1, $"seed {s.Seed}: {hashes.Count} different states among {active.Count} members");
            // No loss: every active member applied exactly the same set of deltas, and nothing waits.
            var applied = active[0].State.Applied;
            Assert.All(active, r => Assert.Equal(applied, r.State.Applied));
            Assert.All(active, r => Assert.Equal(0, r.BufferedCount));
            Assert.All(active, r => Assert.Equal(0, r.ParkedCount));
            // Every replica, active or removed, rejected the same deltas for the same reasons.
            var rejected = active[0].Rejected.OrderBy(kv => kv.Key).ToList();
            Assert.All(active, r => Assert.Equal(rejected, r.Rejected.OrderBy(kv => kv.Key).ToList()));
        }, iter: 1000, print: s => $"seed={s.Seed} members={s.Members} steps={s.Steps}");

    [Fact]
    public void Every_delta_an_active_member_authored_should_reach_every_active_member() =>
        Scenarios.Sample(s =>
        {
            using var net = new RandomNetwork(s.Seed, s.Members);
            net.Run(s.Steps);
            net.HealAndQuiesce();
            var active = net.ActiveMembers();
            foreach (var author in active)
            foreach (var own in author.Log.Where(d => d.Header.Device == author.Device))
            foreach (var other in active)
                Assert.True(other.State.IsApplied(own.Id), $"seed {s.Seed}: {own.Id} missing at {other.Name}");
        }, iter: 1000, print: s => $"seed={s.Seed} members={s.Members} steps={s.Steps}");
}

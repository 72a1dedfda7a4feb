using ActorSync.Core.Deltas;
using ActorSync.Core.Identity;
using ActorSync.Core.Operations;
using ActorSync.Core.Permissions;
using ActorSync.Core.Replication;

namespace ActorSync.Benchmarks.Support;

/// <summary>An account with one device and its contact card (a trimmed copy of the Core tests' TestMember).</summary>
public sealed class BenchMember : IDisposable
{
    public BenchMember(string name)
    {
        Account = AccountIdentity.Generate(name);
        Device = DeviceIdentity.Generate();
        Card = ContactCard.Create(Account, [Device.Signing.PublicKeyBytes], ["https://127.0.0.1:7000"], 1_000);
    }

    public AccountIdentity Account { get; }
    public DeviceIdentity Device { get; }
    public ContactCard Card { get; }

    public Replica Join(Invitation invitation) => Replica.Join(invitation, Account, Device);

    public void Dispose()
    {
        Account.Dispose();
        Device.Dispose();
    }
}

/// <summary>
/// A workspace of three members, each with a synced replica: ann (manager, creator), bob
/// (participant, the author in the benchmarks) and cat (participant, the receiver). Keeps cat's
/// invitation so a benchmark can make a fresh, empty replica of cat whenever it needs one.
/// </summary>
public sealed class BenchWorkspace : IDisposable
{
    public BenchWorkspace()
    {
        Ann = new BenchMember("ann");
        Bob = new BenchMember("bob");
        Cat = new BenchMember("cat");
        AnnReplica = Replica.Create("bench", Ann.Account, Ann.Device, Ann.Card, Now, out _);
        BobReplica = Bob.Join(Invite(Bob));
        CatInvitation = Invite(Cat);
        CatReplica = Cat.Join(CatInvitation);
        Deliver(AnnReplica.Log, BobReplica);
        Deliver(AnnReplica.Log, CatReplica);
    }

    public long Now { get; private set; } = 1_700_000_000_000;
    public BenchMember Ann { get; }
    public BenchMember Bob { get; }
    public BenchMember Cat { get; }
    public Replica AnnReplica { get; }
    public Replica BobReplica { get; }
    public Replica CatReplica { get; }
    public Invitation CatInvitation { get; }

    public long Tick() => Now += 7;

    /// <summary>Authors one operation on a replica; throws when it is refused (a benchmark must not measure rejections).</summary>
    public SealedDelta Author(Replica replica, ToolId tool, DeltaOp op)
    {
        var result = replica.Author(tool, op, Tick());
        if (!result.Ok) throw new InvalidOperationException($"{op.Kind} on {tool} refused: {result.Rejection}");
        if (result.Deltas.Count != 1) throw new InvalidOperationException($"{op.Kind} produced {result.Deltas.Count} deltas (unexpected key rotation)");
        return result.Last;
    }

    /// <summary>Hands deltas to a replica in order; each must apply or already be there.</summary>
    public static void Deliver(IEnumerable<SealedDelta> deltas, Replica to)
    {
        foreach (var d in deltas.ToList())
        {
            var outcome = to.Receive(d)[0];
            if (outcome.Status is not (ReceiveStatus.Applied or ReceiveStatus.Duplicate))
                throw new InvalidOperationException($"{d} not applied: {outcome.Status} {outcome.Reason}");
        }
    }

    private Invitation Invite(BenchMember member)
    {
        var result = AnnReplica.Invite(member.Card, Role.Participant, Tick(), out var invitation);
        if (!result.Ok || invitation is null) throw new InvalidOperationException("invite refused: " + result.Rejection);
        return invitation;
    }

    public void Dispose()
    {
        AnnReplica.Dispose();
        BobReplica.Dispose();
        CatReplica.Dispose();
        Ann.Dispose();
        Bob.Dispose();
        Cat.Dispose();
    }
}

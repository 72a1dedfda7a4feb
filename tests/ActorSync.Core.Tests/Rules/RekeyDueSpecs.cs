using System.Collections.Immutable;
using ActorSync.Core.Identity;
using ActorSync.Core.Permissions;
using ActorSync.Core.Tests.Support;
using ActorSync.Core.Workspace;
using Xunit;

namespace ActorSync.Core.Tests.Rules;

/// <summary>
/// A key rotation is due exactly when the holders of the current epoch key are not the members
/// (ARCHITECTURE.md section 5, "Uninvite"): the ordered walk <see cref="AdminState.NeedsRekey"/>
/// takes gives the set comparison's answer for random member and holder sets.
/// </summary>
public class RekeyDueSpecs
{
    // Member values do not take part in the rule: one card for everyone.
    private static readonly ContactCard AnyCard = CardOfSomeone();

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6, 7, 8 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Rekey_should_be_due_exactly_when_the_key_holders_are_not_the_members(int seed)
    {
        var random = new Random(seed);
        var due = 0;
        for (var round = 0; round < 300; round++)
        {
            var pool = Enumerable.Range(0, random.Next(1, 12)).Select(_ => RandomAccount(random)).ToList();
            var members = pool.Where(_ => random.Next(3) > 0).ToList();
            // Often the very same ids (the usual case), else a random draw from the same pool: same
            // count with different ids, subsets and supersets.
            var holders = random.Next(2) == 0 ? members.ToList() : pool.Where(_ => random.Next(3) > 0).ToList();
            var state = AdminState.Empty with
            {
                Created = true,
                Members = members.ToImmutableSortedDictionary(a => a, _ => new Member(AnyCard, Role.Participant)),
                EpochRecipients = [.. holders],
            };

            var expected = !holders.ToHashSet().SetEquals(members);
            Assert.Equal(expected, state.NeedsRekey);
            due += expected ? 1 : 0;
        }
        Assert.InRange(due, 30, 270); // both answers were exercised
    }

    [Fact]
    public void Rekey_should_not_be_due_before_creation_or_after_deletion()
    {
        var ann = new AccountId(new Fingerprint(1, 2, 3));
        var state = AdminState.Empty with
        {
            Members = ImmutableSortedDictionary<AccountId, Member>.Empty.Add(ann, new Member(AnyCard, Role.Manager)),
        };
        Assert.False(state.NeedsRekey);
        Assert.True((state with { Created = true }).NeedsRekey);
        Assert.False((state with { Created = true, Deleted = true }).NeedsRekey);
    }

    private static ContactCard CardOfSomeone()
    {
        using var someone = new TestMember("someone");
        return someone.Card;
    }

    private static AccountId RandomAccount(Random random) =>
        new(new Fingerprint((ulong)random.NextInt64(), (ulong)random.NextInt64(), (uint)random.Next()));
}

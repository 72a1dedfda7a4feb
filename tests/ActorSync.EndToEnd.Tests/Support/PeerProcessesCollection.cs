using Xunit;

namespace ActorSync.EndToEnd.Tests.Support;

/// <summary>
/// Every end-to-end test runs in this one collection, so one story at a time owns the machine's cores:
/// several peers plus a CLI process per verb already load two cores well.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PeerProcessesCollection
{
    public const string Name = "actorsync peer processes";

    /// <summary>A last guard per test; every wait inside is bounded far below it.</summary>
    public const int TestTimeout = 8 * 60 * 1000;
}

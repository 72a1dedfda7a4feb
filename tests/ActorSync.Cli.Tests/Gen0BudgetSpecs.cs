using ActorSync.Cli.Hosting;
using Xunit;

namespace ActorSync.Cli.Tests;

/// <summary>Which invocations execute themselves again with the gen-0 budget, and with what environment.</summary>
public sealed class Gen0BudgetSpecs
{
    private static readonly string[] Plain = ["PATH=/usr/bin", "HOME=/root"];

    [Fact]
    public void The_relay_should_get_the_budget_and_keep_the_rest_of_its_environment()
    {
        var environment = Gen0Budget.EnvironmentFor(["relay", "--home", "/tmp/x"], Plain);

        Assert.NotNull(environment);
        Assert.Equal([.. Plain, "DOTNET_GCgen0size=4000000"], environment);
    }

    [Theory]
    [InlineData("peer", "--home")]
    [InlineData("ws", "list")]
    [InlineData("bench", "relay")]
    [InlineData("help", "relay")]
    [InlineData("demo", "")]
    public void Other_verbs_should_run_as_they_are(string verb, string rest)
    {
        Assert.Null(Gen0Budget.EnvironmentFor([verb, rest], Plain));
        Assert.Null(Gen0Budget.EnvironmentFor([], Plain));
    }

    [Theory]
    [InlineData("DOTNET_GCgen0size=0")]
    [InlineData("DOTNET_GCgen0size=8000000")]
    [InlineData("COMPlus_GCgen0size=1000000")]
    [InlineData("dotnet_gcgen0size=0")]
    public void An_operators_own_setting_should_win(string setting)
    {
        // Also what stops the executed process from executing itself again.
        Assert.Null(Gen0Budget.EnvironmentFor(["relay"], [.. Plain, setting]));
    }
}

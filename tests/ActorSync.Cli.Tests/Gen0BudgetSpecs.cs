using System.Text;
using ActorSync.Cli.Hosting;
using Xunit;

namespace ActorSync.Cli.Tests;

/// <summary>Which invocations execute themselves again with the gen-0 budget, and the bytes they pass on.</summary>
public sealed class Gen0BudgetSpecs
{
    private static readonly byte[][] Plain = [Ascii("PATH=/usr/bin"), Ascii("HOME=/root")];

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    [Fact]
    public void The_relay_should_want_the_budget_and_other_verbs_not()
    {
        Assert.True(Gen0Budget.Wanted(["relay", "--home", "/tmp/x"], Plain));
        Assert.False(Gen0Budget.Wanted(["peer", "--home", "/tmp/x"], Plain));
        Assert.False(Gen0Budget.Wanted(["ws", "list"], Plain));
        Assert.False(Gen0Budget.Wanted(["bench", "relay"], Plain));
        Assert.False(Gen0Budget.Wanted(["help", "relay"], Plain));
        Assert.False(Gen0Budget.Wanted([], Plain));
    }

    [Theory]
    [InlineData("DOTNET_GCgen0size=0")]
    [InlineData("DOTNET_GCgen0size=8000000")]
    [InlineData("COMPlus_GCgen0size=1000000")]
    public void An_operators_own_setting_should_win(string setting)
    {
        // Also what stops the executed process from executing itself again.
        Assert.False(Gen0Budget.Wanted(["relay"], [.. Plain, Ascii(setting)]));
    }

    [Fact]
    public void Another_spelling_of_the_name_should_not_count_as_the_setting()
    {
        // The runtime reads the name case-sensitively: a lower-case one sets nothing, so the budget is still wanted.
        Assert.True(Gen0Budget.Wanted(["relay"], [.. Plain, Ascii("dotnet_gcgen0size=0"), Ascii("X_DOTNET_GCgen0size=0")]));
    }

    [Fact]
    public void Entries_should_keep_every_byte_and_every_argument_of_a_nul_separated_block()
    {
        byte[] block = [.. Ascii("dotnet"), 0, .. Ascii("actorsync.dll"), 0, 0xff, 0xfe, (byte)'x', 0, 0, .. Ascii("relay"), 0];

        var entries = Gen0Budget.Entries(block);

        Assert.Equal(5, entries.Count);
        Assert.Equal(Ascii("dotnet"), entries[0]);
        Assert.Equal(new byte[] { 0xff, 0xfe, (byte)'x' }, entries[2]); // not valid UTF-8: passed on as it is
        Assert.Empty(entries[3]); // an empty argument stays
        Assert.Equal(Ascii("relay"), entries[4]);
        Assert.Empty(Gen0Budget.Entries([]));
        Assert.Equal([Ascii("no-terminator")], Gen0Budget.Entries(Ascii("no-terminator")));
    }
}

using System.Text;
using ActorSync.Cli.Hosting;
using Xunit;

namespace ActorSync.Cli.Tests;

/// <summary>Which invocations execute themselves again with the relay's GC settings, and the bytes they pass on.</summary>
public sealed class RelayGcSpecs
{
    private static readonly byte[][] Plain = [Ascii("PATH=/usr/bin"), Ascii("HOME=/root")];

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    [Fact]
    public void The_relay_should_want_the_budget_and_other_verbs_not()
    {
        Assert.True(RelayGc.Wanted(["relay", "--home", "/tmp/x"], Plain));
        Assert.False(RelayGc.Wanted(["peer", "--home", "/tmp/x"], Plain));
        Assert.False(RelayGc.Wanted(["ws", "list"], Plain));
        Assert.False(RelayGc.Wanted(["bench", "relay"], Plain));
        Assert.False(RelayGc.Wanted(["help", "relay"], Plain));
        Assert.False(RelayGc.Wanted([], Plain));
    }

    [Theory]
    [InlineData("DOTNET_GCgen0size=0")]
    [InlineData("DOTNET_GCgen0size=8000000")]
    [InlineData("COMPlus_GCgen0size=1000000")]
    public void An_operators_own_setting_should_win(string setting)
    {
        // Both given (also what stops the executed process from executing itself again): no exec.
        Assert.False(RelayGc.Wanted(["relay"], [.. Plain, Ascii(setting), Ascii("DOTNET_GCLOHThreshold=14C08")]));
        // Only the budget given: still executed, for the threshold, and the budget is kept as given.
        Assert.True(RelayGc.Wanted(["relay"], [.. Plain, Ascii(setting)]));
        var environment = RelayGc.WithSettings([.. Plain, Ascii(setting)]).Select(Encoding.ASCII.GetString).ToList();
        Assert.Contains(setting, environment);
        Assert.Single(environment, e => e.Contains("GCgen0size=", StringComparison.Ordinal));
        Assert.Contains("DOTNET_GCLOHThreshold=14C08", environment);
    }

    [Fact]
    public void The_restored_threshold_should_be_the_runtimes_default_and_the_peers_one_above_a_sealed_chunk()
    {
        Assert.Equal(85_000, Convert.ToInt32(RelayGc.DefaultThreshold, 16));
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "actorsync.runtimeconfig.json")));
        var peers = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").GetProperty("System.GC.LOHThreshold").GetInt32();
        // A 256 KiB chunk sealed with a tree proof of depth 4, signature and header stays under it.
        Assert.InRange(peers, ActorSync.Core.Tools.ContentChunker.MaxSize + 4096, 1024 * 1024);
    }

    [Fact]
    public void Another_spelling_of_the_name_should_not_count_as_the_setting()
    {
        // The runtime reads the name case-sensitively: a lower-case one sets nothing, so the budget is still wanted.
        Assert.True(RelayGc.Wanted(["relay"], [.. Plain, Ascii("dotnet_gcgen0size=0"), Ascii("X_DOTNET_GCgen0size=0"), Ascii("DOTNET_GCLOHThreshold=14C08")]));
    }

    [Fact]
    public void Entries_should_keep_every_byte_and_every_argument_of_a_nul_separated_block()
    {
        byte[] block = [.. Ascii("dotnet"), 0, .. Ascii("actorsync.dll"), 0, 0xff, 0xfe, (byte)'x', 0, 0, .. Ascii("relay"), 0];

        var entries = RelayGc.Entries(block);

        Assert.Equal(5, entries.Count);
        Assert.Equal(Ascii("dotnet"), entries[0]);
        Assert.Equal(new byte[] { 0xff, 0xfe, (byte)'x' }, entries[2]); // not valid UTF-8: passed on as it is
        Assert.Empty(entries[3]); // an empty argument stays
        Assert.Equal(Ascii("relay"), entries[4]);
        Assert.Empty(RelayGc.Entries([]));
        Assert.Equal([Ascii("no-terminator")], RelayGc.Entries(Ascii("no-terminator")));
    }

    [Fact]
    public void The_settings_should_be_added_to_the_environment_unless_the_operator_gave_the_threshold()
    {
        static string[] Text(List<byte[]> environment) => [.. environment.Select(Encoding.ASCII.GetString)];

        var plain = Text(RelayGc.WithSettings(Plain));
        Assert.Equal(["PATH=/usr/bin", "HOME=/root", "DOTNET_GCgen0size=4000000", "DOTNET_GCLOHThreshold=14C08"], plain);

        foreach (var own in new[] { "DOTNET_GCLOHThreshold=30000", "COMPlus_GCLOHThreshold=30000" })
        {
            var kept = Text(RelayGc.WithSettings([.. Plain, Ascii(own)]));
            Assert.Contains(own, kept);
            Assert.Single(kept, e => e.Contains("GCLOHThreshold=", StringComparison.Ordinal));
            Assert.Contains("DOTNET_GCgen0size=4000000", kept);
        }
    }
}

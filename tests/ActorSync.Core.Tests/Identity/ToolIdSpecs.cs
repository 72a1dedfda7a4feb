using System.Text.RegularExpressions;
using ActorSync.Core.Identity;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Identity;

/// <summary>Tool ids: 1 to 32 of a-z, 0-9 and '-', so they name actors and folders without escaping.</summary>
public partial class ToolIdSpecs
{
    [GeneratedRegex("^[a-z0-9-]{1,32}$")]
    private static partial Regex Valid();

    [Theory]
    [InlineData("a")]
    [InlineData("discussion")]
    [InlineData("notes-2")]
    [InlineData("-")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")]
    public void ToolId_should_accept_lower_case_letters_digits_and_dashes(string text)
    {
        Assert.True(ToolId.IsValid(text));
        Assert.Equal(text, new ToolId(text).Value);
        Assert.Equal(text, new ToolId(text).ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("Discussion")]
    [InlineData("my tool")]
    [InlineData("a_b")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("caf\u00e9")]
    [InlineData("tool\n")]
    public void ToolId_should_reject_anything_else(string? text)
    {
        Assert.False(ToolId.IsValid(text));
        Assert.Throws<FormatException>(() => new ToolId(text!));
    }

    [Fact]
    public void ToolId_should_be_valid_exactly_when_it_is_1_to_32_allowed_characters() =>
        Gen.Char["abcz09-AZ_ ./\u00e9\u0131"].Array[0, 34].Select(c => new string(c)).Sample(text =>
        {
            var expected = Valid().IsMatch(text);
            Assert.Equal(expected, ToolId.IsValid(text));
            if (expected) Assert.Equal(text, new ToolId(text).Value);
            else Assert.Throws<FormatException>(() => new ToolId(text));
        }, iter: 1000);

    [Fact]
    public void ToolId_should_reserve_workspace_for_membership() => Assert.Equal("workspace", ToolId.Workspace.Value);
}

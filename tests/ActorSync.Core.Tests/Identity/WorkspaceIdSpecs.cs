using ActorSync.Core.Encoding;
using ActorSync.Core.Identity;
using CsCheck;
using Xunit;

namespace ActorSync.Core.Tests.Identity;

/// <summary>Workspace ids: 26 lower-case base32 characters that round trip and are safe as actor, file and persistence names.</summary>
public class WorkspaceIdSpecs
{
    private static readonly Gen<WorkspaceId> Ids = Gen.Byte.Array[WorkspaceId.Size].Select(b => WorkspaceId.FromBytes(b));

    [Fact]
    public void WorkspaceId_should_round_trip_through_text_and_bytes() =>
        Ids.Sample(id =>
        {
            var text = id.ToString();
            Assert.Matches("^[a-z2-7]{26}$", text);
            Assert.Equal(id, WorkspaceId.Parse(text));
            Assert.Equal(id, WorkspaceId.Parse(" " + text.ToUpperInvariant() + " "));
            Assert.Equal(id, WorkspaceId.FromBytes(id.ToBytes()));
            Assert.Equal("ws-" + text, id.PersistenceId);
        }, iter: 1000);

    [Fact]
    public void WorkspaceId_should_have_exactly_one_spelling() =>
        // 26 characters carry 130 bits for 128: the last character's two low bits must be zero.
        Gen.Select(Ids, Gen.Int[1, 3]).Sample((id, padding) =>
        {
            var text = id.ToString();
            var last = Base32.ValueOf(text[^1]);
            var other = char.ToLowerInvariant(Base32.Alphabet[last ^ padding]);
            Assert.False(WorkspaceId.TryParse(text[..^1] + other, out _), $"{text[..^1] + other} also spells {text}");
        }, iter: 1000);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaa0")]
    [InlineData("aaaaaaaaaaaa-aaaaaaaaaaaaa")]
    public void WorkspaceId_should_reject_malformed_text(string? text)
    {
        Assert.False(WorkspaceId.TryParse(text, out _));
        if (text is not null) Assert.Throws<FormatException>(() => WorkspaceId.Parse(text));
    }

    [Fact]
    public void WorkspaceId_should_be_new_every_time()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => WorkspaceId.New()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}

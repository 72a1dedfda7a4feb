using ActorSync.Peer.Links;
using Xunit;

namespace ActorSync.Peer.Tests.Links;

public sealed class LinkAddressSpecs
{
    [Theory]
    [InlineData("127.0.0.1:7001", "127.0.0.1", 7001)]
    [InlineData(" peer.example:443 ", "peer.example", 443)]
    [InlineData("[::1]:7001", "::1", 7001)]
    public void LinkAddress_should_parse_host_and_port(string text, string host, int port)
    {
        Assert.Equal((host, port), LinkAddress.Parse(text));
        Assert.Equal(text.Trim(), LinkAddress.Format(host, port));
    }

    [Theory]
    [InlineData("")]
    [InlineData("host")]
    [InlineData("host:")]
    [InlineData(":7001")]
    [InlineData("host:70000")]
    [InlineData("host:-1")]
    [InlineData("host:0")]
    [InlineData("::1:7001")]
    public void LinkAddress_should_refuse_what_is_not_a_dialable_address(string text)
    {
        Assert.Throws<LinkException>(() => LinkAddress.Parse(text));
    }

    [Fact]
    public void LinkAddress_should_allow_port_zero_for_listening()
    {
        Assert.Equal(("127.0.0.1", 0), LinkAddress.Parse("127.0.0.1:0", allowAnyPort: true));
    }
}

using Akka.Configuration;
using ActorSync.Relay.Mailboxes;
using Xunit;

namespace ActorSync.Relay.Tests.Mailboxes;

/// <summary><see cref="MailboxSettings"/> from the <c>actorsync.relay.mailbox</c> section of config/relay.hocon.</summary>
public sealed class MailboxSettingsSpecs
{
    [Fact]
    public void MailboxSettings_should_read_the_shipped_relay_config()
    {
        var shipped = Path.Combine(AppContext.BaseDirectory, "config", "relay.hocon");
        Assert.True(File.Exists(shipped), "config/relay.hocon is copied beside the binaries");
        var config = ConfigurationFactory.ParseString(File.ReadAllText(shipped));
        var settings = MailboxSettings.FromConfig(config.GetConfig("actorsync.relay.mailbox"));
        Assert.Equal(config.GetInt("actorsync.relay.mailbox.max-envelopes"), settings.MaxEnvelopes);
        Assert.Equal(config.GetByteSize("actorsync.relay.mailbox.max-bytes"), settings.MaxBytes);
        Assert.Equal(config.GetTimeSpan("actorsync.relay.mailbox.dormant-after"), settings.DormantAfter);
        Assert.Equal(config.GetTimeSpan("actorsync.relay.mailbox.expiry-interval"), settings.ExpiryInterval);
    }

    [Fact]
    public void MailboxSettings_should_read_every_key_and_switch_passivation_off()
    {
        var settings = MailboxSettings.FromConfig(ConfigurationFactory.ParseString("""
            max-envelopes = 7
            max-bytes = 1 MiB
            dormant-after = 3d
            expiry-interval = 10m
            remember-removed = 42
            passivate-after = off
            """));
        Assert.Equal(new MailboxSettings(7, 1 << 20, TimeSpan.FromDays(3), TimeSpan.FromMinutes(10)) { RememberRemoved = 42, PassivateAfter = null }, settings);
        Assert.Equal(TimeSpan.FromSeconds(30), MailboxSettings.FromConfig(ConfigurationFactory.ParseString("passivate-after = 30s")).PassivateAfter);
        Assert.Equal(MailboxSettings.Default, MailboxSettings.FromConfig(ConfigurationFactory.ParseString("")));
    }

    [Fact]
    public void MailboxSettings_should_refuse_limits_that_cannot_work()
    {
        var e = Assert.Throws<ArgumentException>(() => MailboxSettings.FromConfig(ConfigurationFactory.ParseString("max-envelopes = 0")));
        Assert.Contains("max-envelopes", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MailboxSettings.FromConfig(ConfigurationFactory.ParseString("dormant-after = 0s")));
    }
}

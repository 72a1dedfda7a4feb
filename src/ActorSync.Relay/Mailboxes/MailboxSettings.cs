using Akka.Configuration;

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// Limits and timers of every mailbox on a relay node, read once from the
/// <c>actorsync.relay.mailbox</c> section of config/relay.hocon and passed to each
/// <see cref="MailboxActor"/> through its Props.
/// </summary>
/// <param name="MaxEnvelopes">Most envelopes one mailbox holds; further stores are refused.</param>
/// <param name="MaxBytes">Most payload bytes one mailbox holds; further stores are refused.</param>
/// <param name="DormantAfter">Envelopes older than this are expired (deleted undelivered).</param>
/// <param name="ExpiryInterval">How often a mailbox looks for expired envelopes; zero or less: never by itself (tests send ticks).</param>
public sealed record MailboxSettings(int MaxEnvelopes, long MaxBytes, TimeSpan DormantAfter, TimeSpan ExpiryInterval)
{
    /// <summary>
    /// How many ids of removed (delivered or expired) envelopes a mailbox remembers, so a late
    /// duplicate from a retrying sender is not stored again. Bounded: the oldest are forgotten first.
    /// </summary>
    public int RememberRemoved { get; init; } = 10_000;

    /// <summary>
    /// An empty mailbox with no device attached asks its shard to stop it after this long;
    /// null: never (it then lives until its shard stops it).
    /// </summary>
    public TimeSpan? PassivateAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>What a relay uses when config says nothing (the values of config/relay.hocon).</summary>
    public static MailboxSettings Default { get; } = new(200_000, 1L << 30, TimeSpan.FromDays(21), TimeSpan.FromHours(1));

    /// <summary>
    /// Reads the <c>actorsync.relay.mailbox</c> section: <c>max-envelopes</c>, <c>max-bytes</c>,
    /// <c>dormant-after</c>, <c>expiry-interval</c>, and optionally <c>remember-removed</c> and
    /// <c>passivate-after</c> (a duration or <c>off</c>). Missing keys keep <see cref="Default"/>.
    /// </summary>
    public static MailboxSettings FromConfig(Config mailbox)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        var d = Default;
        var settings = new MailboxSettings(
            mailbox.HasPath("max-envelopes") ? mailbox.GetInt("max-envelopes") : d.MaxEnvelopes,
            mailbox.HasPath("max-bytes") ? mailbox.GetByteSize("max-bytes") ?? d.MaxBytes : d.MaxBytes,
            mailbox.HasPath("dormant-after") ? mailbox.GetTimeSpan("dormant-after") : d.DormantAfter,
            mailbox.HasPath("expiry-interval") ? mailbox.GetTimeSpan("expiry-interval") : d.ExpiryInterval)
        {
            RememberRemoved = mailbox.HasPath("remember-removed") ? mailbox.GetInt("remember-removed") : d.RememberRemoved,
            PassivateAfter = ReadOptionalDuration(mailbox, "passivate-after", d.PassivateAfter),
        };
        return settings.Validated();
    }

    /// <summary>Throws a clear <see cref="ArgumentException"/> naming the setting that cannot work.</summary>
    public MailboxSettings Validated()
    {
        if (MaxEnvelopes < 1) throw new ArgumentException($"mailbox max-envelopes must be at least 1 (is {MaxEnvelopes})");
        if (MaxBytes < 1) throw new ArgumentException($"mailbox max-bytes must be at least 1 (is {MaxBytes})");
        if (DormantAfter <= TimeSpan.Zero) throw new ArgumentException($"mailbox dormant-after must be positive (is {DormantAfter})");
        if (RememberRemoved < 0) throw new ArgumentException($"mailbox remember-removed must not be negative (is {RememberRemoved})");
        if (PassivateAfter is { } p && p <= TimeSpan.Zero) throw new ArgumentException($"mailbox passivate-after must be positive or off (is {p})");
        return this;
    }

    private static TimeSpan? ReadOptionalDuration(Config config, string key, TimeSpan? fallback)
    {
        if (!config.HasPath(key)) return fallback;
        var text = config.GetString(key);
        // HOCON reads an unquoted off as a boolean; either spelling switches it off.
        return text is "off" or "false" or "none" ? null : config.GetTimeSpan(key);
    }
}

namespace ActorSync.Relay.Mailboxes;

/// <summary>
/// The in-process messages of a <see cref="MailboxActor"/> besides the protobuf ones of
/// relay.proto (MailboxStore, MailboxDelivered, MailboxAttach, MailboxDetach -> MailboxReply,
/// Envelope). None of these is serializable: they never leave the node (they are not routed by
/// <see cref="MailboxMessageExtractor"/>), so send them to the entity itself.
/// </summary>
public static class MailboxProtocol
{
    /// <summary>
    /// Expire the envelopes older than the dormancy period as of <paramref name="Now"/>. The
    /// actor's own timer does this with its injected clock; specs send ticks with the time they want.
    /// </summary>
    public sealed record MailboxTick(DateTimeOffset Now);

    /// <summary>
    /// Stops a mailbox after the writes before it: the hand-off and passivation stop message
    /// (a PoisonPill would overtake a write in flight and lose its reply).
    /// </summary>
    public sealed class StopMailbox
    {
        public static readonly StopMailbox Instance = new();
        private StopMailbox() { }
    }

    /// <summary>Asks for a <see cref="MailboxStatus"/> (in-process: specs, diagnostics on the owning node).</summary>
    public sealed record GetMailboxStatus;

    /// <summary>What a mailbox holds right now.</summary>
    public sealed record MailboxStatus(int Envelopes, long Bytes, bool SessionAttached, int RememberedRemoved);
}

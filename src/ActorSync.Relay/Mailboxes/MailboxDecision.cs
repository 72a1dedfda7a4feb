using ActorSync.Protocol.Relay;

namespace ActorSync.Relay.Mailboxes;

/// <summary>What <see cref="MailboxState.Decide"/> says about one <see cref="MailboxStore"/>.</summary>
public abstract record MailboxDecision
{
    private MailboxDecision() { }

    /// <summary>New: persist this event, then acknowledge (accepted means durable).</summary>
    public sealed record Store(EnvelopeStored Event) : MailboxDecision;

    /// <summary>Held already, or delivered recently: acknowledge again, store nothing.</summary>
    public sealed record Duplicate(EnvelopeId Id) : MailboxDecision;

    /// <summary>Not stored (quota full, malformed): the error goes back to the sender as is.</summary>
    public sealed record Refused(string Error) : MailboxDecision;
}

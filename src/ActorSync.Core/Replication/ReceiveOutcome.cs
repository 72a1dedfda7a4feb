using ActorSync.Core.Causality;

namespace ActorSync.Core.Replication;

/// <summary>What became of a received delta.</summary>
public enum ReceiveStatus
{
    /// <summary>Valid and applied (exactly once).</summary>
    Applied,
    /// <summary>Already applied, rejected or waiting: ignored (delivery is at least once).</summary>
    Duplicate,
    /// <summary>Waiting for its dependencies.</summary>
    Buffered,
    /// <summary>Valid so far but sealed under an epoch whose key this replica does not hold yet.</summary>
    Parked,
    /// <summary>Signed by a known device but breaks a rule; every replica rejects it the same way, for good.</summary>
    Rejected,
    /// <summary>Cannot be attributed (unknown author, bad signature, replayed id) or no room: dropped without a trace in the state.</summary>
    Dropped,
    /// <summary>Already covered by the state (an image's log): now kept in the log too, not applied again.</summary>
    Adopted,
}

/// <summary>One delta's fate; <see cref="Reason"/> is safe to log (ids and rule names, never content).</summary>
public sealed record ReceiveOutcome(DeltaId Id, ReceiveStatus Status, string? Reason = null);

/// <summary>
/// The result of authoring a command: the sealed deltas to send, or why the command was refused. A
/// refused command may still carry deltas authored (and applied) before the refusal, a key rotation:
/// they are committed like any other.
/// </summary>
public sealed record AuthorResult(IReadOnlyList<Deltas.SealedDelta> Deltas, string? Rejection)
{
    public bool Ok => Rejection is null;
    public Deltas.SealedDelta Last => Deltas[^1];
    public static AuthorResult Refused(string reason) => new([], reason);
}

/// <summary>
/// The result of authoring several operations together: every delta authored (key rotations
/// included), the delta of each operation in order, and the refusal that stopped it, if any.
/// </summary>
public sealed record AuthorManyResult(IReadOnlyList<Deltas.SealedDelta> Deltas, IReadOnlyList<Causality.DeltaId> Authored, string? Rejection)
{
    public bool Ok => Rejection is null;
}

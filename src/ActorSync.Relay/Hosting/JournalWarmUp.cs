using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace ActorSync.Relay.Hosting;

/// <summary>
/// Recovers one empty persistence id before the node takes devices. The first recovery on a fresh
/// process pays for the journal plugin's start: opening the database, creating its tables when
/// missing, and compiling the query path (measured: ~1 s on two loaded cores). Without this the
/// first device to attach after a restart waited that long for its mailbox, in the middle of its
/// catch-up; with it the node says it is up only once a mailbox can be read at once.
/// </summary>
internal static class JournalWarmUp
{
    public const string PersistenceId = "relay-journal-warm-up";

    /// <summary>True once a recovery went through; false when it failed or took longer than <paramref name="timeout"/> (logged; the node starts anyway, as mailboxes recover on their own).</summary>
    public static async Task<bool> RunAsync(ActorSystem system, TimeSpan timeout, CancellationToken ct = default)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = system.ActorOf(Props.Create(() => new WarmUpActor(done)), "journal-warm-up");
        using var gaveUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var finished = await Task.WhenAny(done.Task, Task.Delay(timeout, gaveUp.Token)).ConfigureAwait(false);
        await gaveUp.CancelAsync().ConfigureAwait(false);
        system.Stop(actor);
        ct.ThrowIfCancellationRequested();
        var ok = finished == done.Task && done.Task.Result;
        if (!ok) system.Log.Warning("The journal did not complete a recovery within {0} of start-up; taking devices anyway", timeout);
        return ok;
    }

    /// <summary>Recovers (reading nothing: it never persists), reports, and waits to be stopped.</summary>
    private sealed class WarmUpActor(TaskCompletionSource<bool> done) : UntypedPersistentActor
    {
        public override string PersistenceId => JournalWarmUp.PersistenceId;

        protected override void OnRecover(object message)
        {
            if (message is RecoveryCompleted) done.TrySetResult(true);
        }

        protected override void OnCommand(object message) => Unhandled(message);

        protected override void OnRecoveryFailure(Exception reason, object? message = null)
        {
            done.TrySetResult(false);
            base.OnRecoveryFailure(reason, message);
        }
    }
}

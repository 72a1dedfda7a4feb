namespace ActorSync.Tests.Shared;

/// <summary>
/// The one way tests wait: poll a condition until it holds or a generous deadline passes, then fail
/// naming what was awaited. The short pause between polls only spares the CPU; no test relies on
/// any amount of time passing.
/// </summary>
internal static class Poll
{
    public static async Task Until(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition().ConfigureAwait(false)) return;
            await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }
        throw new TimeoutException("timed out waiting for: " + what);
    }
}

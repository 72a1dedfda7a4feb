namespace ActorSync.Tests.Shared;

/// <summary>
/// The one way tests wait: poll a condition until it holds or a generous deadline passes, then fail
/// naming what was awaited. The short pause between polls only spares the CPU; no test relies on
/// any amount of time passing.
/// </summary>
internal static class Poll
{
    public static Task Until(Func<Task<bool>> condition, string what, int seconds = 60) =>
        Until(condition, what, TimeSpan.FromSeconds(seconds), TimeSpan.FromMilliseconds(100));

    /// <summary>For conditions other threads make true in memory: cheap to test, so polled more often.</summary>
    public static Task Until(Func<bool> condition, string what, TimeSpan patience) =>
        Until(() => Task.FromResult(condition()), what, patience, TimeSpan.FromMilliseconds(20));

    /// <summary>As above; on timeout the message also carries <paramref name="describe"/>'s account of what was seen.</summary>
    public static Task Until(Func<Task<bool>> condition, string what, TimeSpan patience, Func<string> describe) =>
        Until(condition, what, patience, TimeSpan.FromMilliseconds(100), describe);

    private static async Task Until(Func<Task<bool>> condition, string what, TimeSpan patience, TimeSpan pause, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"still not true after {patience}: {what}" + (describe is null ? "" : Environment.NewLine + describe()));
            await Task.Delay(pause).ConfigureAwait(false);
        }
    }
}

namespace ActorSync.Peer.Links;

/// <summary>
/// Lets one log line per key (a remote address) through per interval and counts the rest, so a
/// scanner or a peer stuck in a reconnect loop cannot flood the log.
/// </summary>
internal sealed class LogThrottle
{
    // Beyond this many remembered addresses, forget the quiet ones: memory must not grow with the
    // number of addresses that ever knocked.
    private const int MaxKeys = 4096;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long LastTicks, int Suppressed)> _entries = new(StringComparer.Ordinal);
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;

    public LogThrottle(TimeSpan interval, TimeProvider time)
    {
        _interval = interval;
        _time = time;
    }

    /// <summary>True when a line about <paramref name="key"/> may be logged now; <paramref name="suppressed"/> says how many were dropped since the last one.</summary>
    public bool TryEnter(string key, out int suppressed)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var entry) && _time.GetElapsedTime(entry.LastTicks, now) < _interval)
            {
                _entries[key] = (entry.LastTicks, entry.Suppressed + 1);
                suppressed = 0;
                return false;
            }
            if (_entries.Count >= MaxKeys) Prune(now);
            suppressed = entry.Suppressed;
            _entries[key] = (now, 0);
            return true;
        }
    }

    private void Prune(long now)
    {
        foreach (var (key, entry) in _entries.ToList())
        {
            if (_time.GetElapsedTime(entry.LastTicks, now) >= _interval) _entries.Remove(key);
        }
        if (_entries.Count >= MaxKeys) _entries.Clear();
    }
}

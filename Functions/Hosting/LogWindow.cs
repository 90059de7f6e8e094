namespace Functions.Hosting;

/// <summary>
/// One log line a window for an event that can come in a flood (someone guessing the admin key): the first of a window
/// is logged; the others are counted, with where they came from, and handed to <c>summary</c> when the window ends
/// (or the app stops), so a flood that stops leaves its count in the log too. Without it, each of a guesser's
/// requests wrote a Warning.
/// </summary>
public sealed class LogWindow(TimeProvider clock, TimeSpan length, Action<LogWindow.HeldBack>? summary = null) : IDisposable
{
    /// <summary>The most sources a summary names; a flood from more says how many it left out.</summary>
    public const int MaxSources = 5;

    /// <summary>The occurrences a window did not log: how many, the first few distinct sources, and how many came from others.</summary>
    public sealed record HeldBack(int Count, IReadOnlyList<string> Sources, int FromOthers);

    readonly Lock _lock = new();
    readonly List<string> _sources = new(MaxSources); // in order of arrival, for the summary
    DateTimeOffset _opened = DateTimeOffset.MinValue;
    int _heldBack, _fromOthers;
    ITimer? _summaryDue;
    bool _disposed;

    /// <summary>True when this occurrence is to be logged; else it is counted, with its <paramref name="source"/>.</summary>
    public bool ShouldLog(string? source = null)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            if (now - _opened >= length)
            {
                _opened = now;
                return true;
            }
            if (_heldBack++ == 0 && summary is not null && !_disposed)
                _summaryDue = clock.CreateTimer(_ => Summarize(), null, _opened + length - now, Timeout.InfiniteTimeSpan);
            if (source is not null && !_sources.Contains(source))
            {
                if (_sources.Count < MaxSources) _sources.Add(source);
                else _fromOthers++;
            }
            return false;
        }
    }

    /// <summary>Hands what the window held back to the summary, once; nothing when nothing was.</summary>
    void Summarize()
    {
        HeldBack heldBack;
        lock (_lock)
        {
            _summaryDue?.Dispose();
            _summaryDue = null;
            if (_heldBack == 0) return;
            heldBack = new HeldBack(_heldBack, [.. _sources], _fromOthers);
            (_heldBack, _fromOthers) = (0, 0);
            _sources.Clear();
        }
        summary?.Invoke(heldBack);
    }

    /// <summary>At the app's stop: the count so far is summarized now, as no timer will.</summary>
    public void Dispose()
    {
        lock (_lock) _disposed = true;
        Summarize();
    }
}

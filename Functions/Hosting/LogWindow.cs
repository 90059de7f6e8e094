namespace Functions.Hosting;

/// <summary>
/// One log line a window for an event that can come in a flood (someone guessing the admin key): the first of a window
/// is logged, the others only counted, and the next line logged says how many were held back. Without it, each of a
/// guesser's requests wrote a Warning.
/// </summary>
public sealed class LogWindow(TimeProvider clock, TimeSpan length)
{
    readonly Lock _lock = new();
    DateTimeOffset _opened = DateTimeOffset.MinValue;
    int _heldBack;

    public TimeSpan Length => length;

    /// <summary>True when this occurrence is to be logged; <paramref name="heldBack"/> is then how many were not, since the last that was.</summary>
    public bool ShouldLog(out int heldBack)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            if (now - _opened < length)
            {
                _heldBack++;
                heldBack = 0;
                return false;
            }
            _opened = now;
            heldBack = _heldBack;
            _heldBack = 0;
            return true;
        }
    }
}

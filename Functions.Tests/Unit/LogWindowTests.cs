using Functions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Unit;

public sealed class LogWindowTests
{
    [Fact]
    public void The_first_occurrence_of_a_window_is_logged_and_the_next_logged_one_counts_those_held_back()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var window = new LogWindow(clock, TimeSpan.FromMinutes(1));

        Assert.True(window.ShouldLog(out var first));
        var heldInWindow = Enumerable.Range(0, 5).Count(_ => window.ShouldLog(out _));
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False(window.ShouldLog(out _));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(window.ShouldLog(out var second));

        Assert.Equal((0, 0, 6), (first, heldInWindow, second));
    }

    [Fact]
    public void Concurrent_occurrences_are_each_logged_or_counted_once()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var window = new LogWindow(clock, TimeSpan.FromMinutes(1));

        var logged = 0;
        Parallel.For(0, 1000, _ => { if (window.ShouldLog(out _)) Interlocked.Increment(ref logged); });
        clock.Advance(TimeSpan.FromMinutes(1));
        window.ShouldLog(out var heldBack);

        Assert.Equal((1, 999), (logged, heldBack));
    }
}

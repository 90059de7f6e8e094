using Functions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Unit;

public sealed class LogWindowTests
{
    readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    readonly List<LogWindow.HeldBack> _summaries = [];

    LogWindow Window() => new(_clock, TimeSpan.FromMinutes(1), _summaries.Add);

    [Fact]
    public void The_first_occurrence_of_a_window_is_logged_and_those_held_back_are_summarized_when_it_ends()
    {
        using var window = Window();

        Assert.True(window.ShouldLog("10.0.0.1"));
        var heldInWindow = Enumerable.Range(0, 5).Count(_ => window.ShouldLog("10.0.0.2"));
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False(window.ShouldLog("10.0.0.1"));
        Assert.Empty(_summaries);
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(0, heldInWindow);
        var summary = Assert.Single(_summaries);
        Assert.Equal((6, 0), (summary.Count, summary.FromOthers));
        Assert.Equal(["10.0.0.2", "10.0.0.1"], summary.Sources);
        Assert.True(window.ShouldLog("10.0.0.3"));
    }

    [Fact]
    public void A_window_that_held_nothing_back_writes_no_summary()
    {
        using (var window = Window())
        {
            Assert.True(window.ShouldLog("10.0.0.1"));
            _clock.Advance(TimeSpan.FromMinutes(5));
            Assert.True(window.ShouldLog("10.0.0.1"));
        }
        Assert.Empty(_summaries);
    }

    [Fact]
    public void Each_window_that_held_some_back_has_its_own_summary()
    {
        using var window = Window();

        window.ShouldLog("a");
        window.ShouldLog("a");
        _clock.Advance(TimeSpan.FromMinutes(1));
        window.ShouldLog("b");
        window.ShouldLog("b");
        window.ShouldLog("c");
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal([(1, "a"), (2, "b, c")], _summaries.Select(s => (s.Count, string.Join(", ", s.Sources))));
    }

    [Fact]
    public void A_summary_names_the_first_few_sources_and_counts_the_occurrences_from_others()
    {
        using var window = Window();

        window.ShouldLog("first");
        foreach (var source in Enumerable.Range(0, 9).Select(i => $"10.0.0.{i}"))
            window.ShouldLog(source);
        window.ShouldLog("10.0.0.0");
        window.ShouldLog("10.0.0.8");
        _clock.Advance(TimeSpan.FromMinutes(1));

        var summary = Assert.Single(_summaries);
        Assert.Equal((11, LogWindow.MaxSources, 5), (summary.Count, summary.Sources.Count, summary.FromOthers));
    }

    [Fact]
    public void Stopping_summarizes_what_was_held_back_at_once_and_nothing_after()
    {
        var window = Window();
        window.ShouldLog("a");
        window.ShouldLog("a");
        window.ShouldLog("a");

        window.Dispose();
        _clock.Advance(TimeSpan.FromMinutes(2));
        window.ShouldLog("a");
        window.ShouldLog("a");
        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(2, Assert.Single(_summaries).Count);
    }

    [Fact]
    public void Concurrent_occurrences_are_each_logged_or_counted_once()
    {
        using var window = Window();

        var logged = 0;
        Parallel.For(0, 1000, i => { if (window.ShouldLog($"client-{i % 3}")) Interlocked.Increment(ref logged); });
        _clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal((1, 999), (logged, Assert.Single(_summaries).Count));
    }

    [Fact]
    public void Without_a_summary_the_window_only_decides_what_is_logged()
    {
        using var window = new LogWindow(_clock, TimeSpan.FromMinutes(1));

        Assert.Equal([true, false, false], new[] { window.ShouldLog(), window.ShouldLog(), window.ShouldLog() });
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(window.ShouldLog());
    }
}

using System.Collections.Concurrent;
using Functions.LocalHost;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Host;

/// <summary>The local host runs a timer function at each occurrence of its schedule, once each, and on after a run that fails.</summary>
public sealed class TimerTriggersTests
{
    public static class EveryTenSeconds
    {
        public static readonly ConcurrentQueue<TimerInfo> Runs = new();

        [Function("Tick")]
        public static Task Tick([TimerTrigger("*/10 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
        {
            Runs.Enqueue(timer);
            return Runs.Count == 1 ? Task.FromException(new InvalidOperationException("the first run fails")) : Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_timer_function_runs_at_each_occurrence_once_and_again_after_a_run_that_failed()
    {
        var start = new DateTimeOffset(2026, 11, 26, 12, 0, 3, TimeSpan.Zero);
        var clock = new FakeTimeProvider(start);
        using var services = new ServiceCollection().BuildServiceProvider();
        var timers = new TimerTriggers(FunctionCatalog.Of([typeof(EveryTenSeconds)], new HostJson("api", "Hub", 1)), services, clock,
            NullLogger<TimerTriggers>.Instance);
        await timers.StartAsync(default);

        // A second at a time, so that an occurrence run early, late or twice would show in the times below.
        foreach (var runs in new[] { 1, 2 })
            await Eventually.HoldsAsync(() =>
            {
                if (EveryTenSeconds.Runs.Count < runs) clock.Advance(TimeSpan.FromSeconds(1));
                return Task.FromResult(EveryTenSeconds.Runs.Count >= runs);
            });
        await timers.StopAsync(default);

        var at = (int seconds) => start.AddSeconds(seconds - 3).UtcDateTime;
        Assert.Equal([at(10), at(20)], EveryTenSeconds.Runs.Select(r => r.ScheduleStatus!.LastUpdated));
        Assert.Equal([at(20), at(30)], EveryTenSeconds.Runs.Select(r => r.ScheduleStatus!.Next));
        Assert.Equal([default, at(10)], EveryTenSeconds.Runs.Select(r => r.ScheduleStatus!.Last));
        Assert.All(EveryTenSeconds.Runs, r => Assert.False(r.IsPastDue));
    }
}

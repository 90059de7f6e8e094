using System.Collections.Concurrent;
using Functions.LocalHost;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Host;

/// <summary>
/// The local host runs a timer function at each occurrence of its schedule, once each, and on after a run that fails;
/// at its stop, a run under way is canceled.
/// </summary>
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

    public static class OnLeapDays
    {
        public static readonly ConcurrentQueue<TimerInfo> Runs = new();

        [Function("LeapDay")]
        public static void LeapDay([TimerTrigger("0 0 0 29 2 *")] TimerInfo timer) => Runs.Enqueue(timer);
    }

    public static class WaitsForItsToken
    {
        public static readonly TaskCompletionSource<CancellationToken> Running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        [Function("Waits")]
        public static async Task Waits([TimerTrigger("*/10 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
        {
            Running.TrySetResult(cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    static TimerTriggers Timers(Type functions, TimeProvider clock, params (string Key, string Value)[] settings) =>
        new(FunctionCatalog.Of([functions], new HostJson("api", "Hub", 1)), new ServiceCollection().BuildServiceProvider(),
            new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build(), clock,
            NullLogger<TimerTriggers>.Instance);

    // Moves the fake clock a step at a time until the timers have done what is awaited.
    static Task AdvanceUntilAsync(FakeTimeProvider clock, TimeSpan step, Func<bool> done) => Eventually.HoldsAsync(() =>
    {
        if (!done()) clock.Advance(step);
        return Task.FromResult(done());
    });

    [Fact]
    public async Task A_timer_whose_next_occurrence_is_years_away_waits_for_it_and_runs_then()
    {
        // Longer than one timer can wait (about 49 days): it waits in steps.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));
        var timers = Timers(typeof(OnLeapDays), clock);
        await timers.StartAsync(default);

        await AdvanceUntilAsync(clock, TimeSpan.FromDays(7), () => !OnLeapDays.Runs.IsEmpty);
        await timers.StopAsync(default);

        var run = Assert.Single(OnLeapDays.Runs).ScheduleStatus!.LastUpdated;
        Assert.Equal((2, 29, 0), (run.Month, run.Day, run.Hour));
        Assert.False(timers.ExecuteTask!.IsFaulted);
    }

    [Theory]
    [InlineData("AzureWebJobs.LeapDay.Disabled")]
    [InlineData("AzureWebJobs:LeapDay:Disabled")] // the environment variable AzureWebJobs__LeapDay__Disabled
    public async Task A_timer_turned_off_by_the_hosts_setting_is_not_scheduled(string setting)
    {
        var timers = Timers(typeof(OnLeapDays), TimeProvider.System, (setting, "true"));

        await timers.StartAsync(default);

        await timers.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10)); // ends at once: nothing to wait for (an enabled timer waits until 2028)
        await timers.StopAsync(default);
    }

    [Fact]
    public async Task A_timer_function_runs_at_each_occurrence_once_and_again_after_a_run_that_failed()
    {
        var start = new DateTimeOffset(2026, 11, 26, 12, 0, 3, TimeSpan.Zero);
        var clock = new FakeTimeProvider(start);
        var timers = Timers(typeof(EveryTenSeconds), clock);
        await timers.StartAsync(default);

        // A second at a time, so that an occurrence run early, late or twice would show in the times below.
        foreach (var runs in new[] { 1, 2 })
            await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(1), () => EveryTenSeconds.Runs.Count >= runs);
        await timers.StopAsync(default);

        var at = (int seconds) => start.AddSeconds(seconds - 3).UtcDateTime;
        Assert.Equal([at(10), at(20)], EveryTenSeconds.Runs.Select(r => r.ScheduleStatus!.LastUpdated));
        Assert.Equal([at(20), at(30)], EveryTenSeconds.Runs.Select(r => r.ScheduleStatus!.Next));
        Assert.Equal([default, at(10)], EveryTenSeconds.Runs.Select(r => r.ScheduleStatus!.Last));
        Assert.All(EveryTenSeconds.Runs, r => Assert.False(r.IsPastDue));
    }

    [Fact]
    public async Task A_timer_function_under_way_is_canceled_when_the_host_stops()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 3, TimeSpan.Zero));
        var timers = Timers(typeof(WaitsForItsToken), clock);
        await timers.StartAsync(default);
        await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(1), () => WaitsForItsToken.Running.Task.IsCompleted);

        await timers.StopAsync(default).WaitAsync(TimeSpan.FromSeconds(10)); // the host's stop has no bound of its own here

        Assert.True((await WaitsForItsToken.Running.Task).IsCancellationRequested);
        Assert.True(timers.ExecuteTask!.IsCompletedSuccessfully);
    }
}

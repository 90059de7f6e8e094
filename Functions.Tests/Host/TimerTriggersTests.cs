using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Functions.LocalHost;
using Functions.Storage;
using Functions.Tests.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Host;

/// <summary>
/// The local host runs a timer function at each occurrence of its schedule, once each, and on after a run that fails;
/// at its stop, a run under way is canceled. Of several processes of one app on one storage, only the one holding the
/// function's lock (a blob lease, as the Functions host's singleton listener lock) runs it. Each test "process" is a
/// timer loop with its own storage clients, on one real Azurite.
/// </summary>
[RunsLong]
public sealed class TimerTriggersTests(StorageFixture storage) : IClassFixture<StorageFixture>, IAsyncLifetime
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

    public static class FailsOnceCut
    {
        public static readonly TaskCompletionSource Running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // A canceled call may surface as another exception than OperationCanceledException (a gRPC call's RpcException).
        [Function("FailsOnceCut")]
        public static async Task Run([TimerTrigger("*/10 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
        {
            Running.TrySetResult();
            try { await Task.Delay(Timeout.Infinite, cancellationToken); }
            catch (OperationCanceledException) { throw new InvalidOperationException("the call was canceled"); }
        }
    }

    /// <summary>The occurrences one process ran: each process has its own.</summary>
    public sealed class Occurrences : ConcurrentQueue<DateTime>;

    public sealed class EverySecond(Occurrences runs)
    {
        [Function("EverySecond")]
        public void Run([TimerTrigger("* * * * * *")] TimerInfo timer) => runs.Enqueue(timer.ScheduleStatus!.LastUpdated);
    }

    readonly List<(TimerTriggers Timers, ServiceProvider Services)> _processes = [];
    readonly FakeLogger<TimerTriggers> _log = new();
    // Each test's processes are one app of their own, so that no test meets another's lock.
    readonly string _hostId = $"test-{Guid.NewGuid():N}"[..32];

    TimerTriggers Timers(Type functions, TimeProvider clock, params (string Key, string Value)[] settings) => Process(functions, clock, settings).Timers;

    (TimerTriggers Timers, Occurrences Runs) Process(Type functions, TimeProvider clock, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new(StorageConnection.SettingName, storage.ConnectionString), new("AzureFunctionsWebHost:hostid", _hostId)])
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
        var services = new ServiceCollection().AddLogging().AddAppStorage(configuration).AddSingleton<Occurrences>().BuildServiceProvider();
        var timers = new TimerTriggers(FunctionCatalog.Of([functions], new HostJson("api", "Hub", 1)), services, configuration, clock, _log);
        _processes.Add((timers, services));
        return (timers, services.GetRequiredService<Occurrences>());
    }

    // The lock blob where the Functions host keeps it: locks/{hostId}/{the function's full name}.Listener.
    BlobClient Lock(string function) =>
        new BlobContainerClient(storage.ConnectionString, ListenerLock.Container).GetBlobClient($"locks/{_hostId}/Host.Functions.{function}.Listener");

    Task HeldAsync(string function) => Eventually.HoldsAsync(async () =>
        await Lock(function).ExistsAsync() && (await Lock(function).GetPropertiesAsync()).Value.LeaseState == LeaseState.Leased);

    // Holds once the count has not moved for two periods of a one-second schedule.
    static Task StopsRunningAsync(Occurrences runs, TimeSpan timeout) => Eventually.HoldsAsync(async () =>
    {
        var before = runs.Count;
        await Task.Delay(TimeSpan.FromSeconds(2));
        return runs.Count == before;
    }, timeout);

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
        await HeldAsync("LeapDay"); // the timer waits for its lock (on real time) before it reads the clock

        await AdvanceUntilAsync(clock, TimeSpan.FromDays(7), () => !OnLeapDays.Runs.IsEmpty);
        await timers.StopAsync(default);

        var run = Assert.Single(OnLeapDays.Runs).ScheduleStatus!.LastUpdated;
        Assert.Equal((2, 29, 0), (run.Month, run.Day, run.Hour));
        Assert.False(timers.ExecuteTask!.IsFaulted);
    }

    [Theory]
    [InlineData("AzureWebJobs.LeapDay.Disabled")]
    [InlineData("AzureWebJobs:LeapDay:Disabled")] // the environment variable AzureWebJobs__LeapDay__Disabled
    [InlineData("AzureWebJobs.LeapDay.Disabled", "1")] // the WebJobs SDK takes "1" or "true", in any case
    [InlineData("AzureWebJobs:LeapDay:Disabled", "TRUE")]
    public async Task A_timer_turned_off_by_the_hosts_setting_is_not_scheduled(string setting, string value = "true")
    {
        var timers = Timers(typeof(OnLeapDays), TimeProvider.System, (setting, value));

        await timers.StartAsync(default);

        await timers.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10)); // ends at once: nothing to wait for (an enabled timer waits until 2028)
        await timers.StopAsync(default);
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message == "The timer function LeapDay is disabled (AzureWebJobs.LeapDay.Disabled)");
    }

    [Theory]
    [InlineData("AzureWebJobs.LeapDay.Disabled", "false")]
    [InlineData("AzureWebJobs:LeapDay:Disabled", "False")]
    [InlineData("AzureWebJobs.LeapDay.Disabled", "0")]
    [InlineData("AzureWebJobs.LeapDay.Disabled", "")]
    public async Task A_timer_the_hosts_setting_does_not_turn_off_is_scheduled(string setting, string value)
    {
        var timers = Timers(typeof(OnLeapDays), TimeProvider.System, (setting, value));

        await timers.StartAsync(default);

        await HeldAsync("LeapDay"); // it takes its lock to wait for its next occurrence
        await timers.StopAsync(default);
        Assert.DoesNotContain(_log.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData(" true")] // the WebJobs SDK compares the whole value
    [InlineData("yes")]
    public async Task A_timer_setting_the_host_does_not_read_as_off_keeps_the_timer_on_and_says_so(string value)
    {
        var timers = Timers(typeof(OnLeapDays), TimeProvider.System, ("AzureWebJobs.LeapDay.Disabled", value));

        await timers.StartAsync(default);

        await HeldAsync("LeapDay");
        await timers.StopAsync(default);
        var warning = Assert.Single(_log.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Contains("AzureWebJobs.LeapDay.Disabled", warning.Message);
        Assert.Contains("stays on", warning.Message);
    }

    [Theory]
    [InlineData("bad/id!")]
    [InlineData("-leading")]
    [InlineData("trailing-")]
    [InlineData("two--dashes")]
    [InlineData("a-host-id-of-thirty-three-letters")]
    public void A_host_id_the_Functions_host_would_refuse_stops_the_start(string hostId)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("AzureFunctionsWebHost:hostid", hostId)]).Build();

        Assert.Throws<InvalidOperationException>(() => TimerTriggers.HostIdOf(configuration, new HostJson("api", "Hub", 1)));
    }

    [Theory]
    [InlineData("My-App1", "my-app1")]
    [InlineData(" ", "imagejobs")] // blank: the task hub's name
    public void A_host_id_is_read_lower_cased_and_a_blank_one_is_the_task_hubs_name(string hostId, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("AzureFunctionsWebHost:hostid", hostId)]).Build();

        Assert.Equal(expected, TimerTriggers.HostIdOf(configuration, new HostJson("api", "ImageJobs", 1)));
    }

    [Fact]
    public async Task The_lock_is_named_after_the_host_id_in_lower_case_as_the_Functions_host_names_it()
    {
        var timers = Timers(typeof(OnLeapDays), TimeProvider.System, ("AzureFunctionsWebHost:hostid", _hostId.ToUpperInvariant()));

        await timers.StartAsync(default);

        await HeldAsync("LeapDay"); // under locks/{the host id in lower case}/
        await timers.StopAsync(default);
    }

    [Fact]
    public async Task A_timer_function_runs_at_each_occurrence_once_and_again_after_a_run_that_failed()
    {
        var start = new DateTimeOffset(2026, 11, 26, 12, 0, 3, TimeSpan.Zero);
        var clock = new FakeTimeProvider(start);
        var timers = Timers(typeof(EveryTenSeconds), clock);
        await timers.StartAsync(default);
        await HeldAsync("Tick");

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

    // Starts one process's timers, lets the function's first run begin, then stops them while it runs.
    async Task<TimerTriggers> StopWhileRunningAsync(Type functions, string function, Task running)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 12, 0, 3, TimeSpan.Zero));
        var timers = Timers(functions, clock);
        await timers.StartAsync(default);
        await HeldAsync(function);
        await AdvanceUntilAsync(clock, TimeSpan.FromSeconds(1), () => running.IsCompleted);
        await timers.StopAsync(default).WaitAsync(TimeSpan.FromSeconds(10)); // the host's stop has no bound of its own here
        return timers;
    }

    [Fact]
    public async Task A_timer_function_under_way_is_canceled_when_the_host_stops()
    {
        var timers = await StopWhileRunningAsync(typeof(WaitsForItsToken), "Waits", WaitsForItsToken.Running.Task);

        Assert.True((await WaitsForItsToken.Running.Task).IsCancellationRequested);
        Assert.True(timers.ExecuteTask!.IsCompletedSuccessfully);
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.StartsWith("The timer function Waits was cut off")); // a purge cut off said nothing
    }

    [Fact]
    public async Task A_timer_function_that_fails_once_cut_off_by_the_stop_does_not_fail_the_timer_loop_and_the_lock_is_released()
    {
        var timers = await StopWhileRunningAsync(typeof(FailsOnceCut), "FailsOnceCut", FailsOnceCut.Running.Task);

        Assert.True(timers.ExecuteTask!.IsCompletedSuccessfully, timers.ExecuteTask.Exception?.ToString()); // a faulted loop stops the whole host
        Assert.Equal(LeaseState.Available, (await Lock("FailsOnceCut").GetPropertiesAsync()).Value.LeaseState);
    }

    [Fact]
    public async Task Of_two_processes_on_one_storage_only_the_one_holding_the_lock_runs_the_timer()
    {
        var (a, b) = (Process(typeof(EverySecond), TimeProvider.System), Process(typeof(EverySecond), TimeProvider.System));
        await Task.WhenAll(a.Timers.StartAsync(default), b.Timers.StartAsync(default));

        // Eight periods: the other process tries to take the lock every five seconds meanwhile.
        await Eventually.HoldsAsync(() => Task.FromResult(a.Runs.Count + b.Runs.Count >= 8), TimeSpan.FromSeconds(30));
        await Task.WhenAll(a.Timers.StopAsync(default), b.Timers.StopAsync(default));

        var (holder, other) = a.Runs.IsEmpty ? (b.Runs, a.Runs) : (a.Runs, b.Runs);
        Assert.Empty(other);
        Assert.Equal(holder.Count, holder.Distinct().Count());
        Assert.Equal(LeaseState.Available, (await Lock("EverySecond").GetPropertiesAsync()).Value.LeaseState); // released at the stop
    }

    [Fact]
    public async Task When_the_holder_stops_the_other_process_runs_the_timer_within_a_lease_period()
    {
        var (a, b) = (Process(typeof(EverySecond), TimeProvider.System), Process(typeof(EverySecond), TimeProvider.System));
        await Task.WhenAll(a.Timers.StartAsync(default), b.Timers.StartAsync(default));
        await Eventually.HoldsAsync(() => Task.FromResult(!a.Runs.IsEmpty || !b.Runs.IsEmpty));
        var (holder, other) = a.Runs.IsEmpty ? (b, a) : (a, b);

        var stopped = Stopwatch.StartNew();
        await holder.Timers.StopAsync(default).WaitAsync(TimeSpan.FromSeconds(5));
        var ranBefore = holder.Runs.Count;
        Assert.Empty(other.Runs);
        await Eventually.HoldsAsync(() => Task.FromResult(!other.Runs.IsEmpty), ListenerLock.Period);
        var tookOver = stopped.Elapsed;
        await Eventually.HoldsAsync(() => Task.FromResult(other.Runs.Count >= 3));
        await other.Timers.StopAsync(default);

        Assert.InRange(tookOver, TimeSpan.Zero, ListenerLock.Renewal + TimeSpan.FromSeconds(2)); // released, so taken at the other's next try
        Assert.Equal(ranBefore, holder.Runs.Count);
    }

    [Fact]
    public async Task A_holder_whose_lease_is_broken_stops_running_the_timer_until_it_holds_the_lock_again()
    {
        await using var proxy = ProxyOf(storage.ConnectionString);
        var process = await RunningThroughAsync(proxy);

        // Broken and taken by someone else, as a lease the holder could not renew in time would be.
        var outside = Lock("EverySecond").GetBlobLeaseClient();
        await outside.BreakAsync(TimeSpan.Zero);
        await outside.AcquireAsync(ListenerLock.Period);
        // At its next renewal, said once its run under way has ended.
        await Eventually.HoldsAsync(() => Task.FromResult(_log.Collector.GetSnapshot().Any(r => r.Message.Contains("could not be renewed"))),
            ListenerLock.Renewal * 2 + TimeSpan.FromSeconds(5));
        var stoppedAt = process.Runs.Count;
        // Its next lease request is a try to take the lock again, which storage refuses: the lease is someone else's.
        var refused = await proxy.SeeFirst(r => r.Method == "PUT" && r.Target.Contains("comp=lease")).WaitAsync(ListenerLock.Renewal * 2);
        Assert.Equal(HttpStatusCode.Conflict, refused.Answered);

        await outside.ReleaseAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(process.Runs.Count > stoppedAt), ListenerLock.Renewal + TimeSpan.FromSeconds(5));
        await process.Timers.StopAsync(default);
        // Not before its try after the refused one, a Renewal later: had it run the timer on the refused try, it would have within a second.
        Assert.InRange(process.Runs.ElementAt(stoppedAt) - refused.At, ListenerLock.Renewal, ListenerLock.Period);
    }

    // A process whose blob requests pass through a proxy, once it runs the timer.
    async Task<(TimerTriggers Timers, Occurrences Runs)> RunningThroughAsync(StorageProxy proxy)
    {
        var blobPort = new BlobServiceClient(storage.ConnectionString).Uri.Port;
        var throughProxy = storage.ConnectionString.Replace($"127.0.0.1:{blobPort}/", $"127.0.0.1:{proxy.Port}/");
        var process = Process(typeof(EverySecond), TimeProvider.System, (StorageConnection.SettingName, throughProxy));
        await process.Timers.StartAsync(default);
        await Eventually.HoldsAsync(() => Task.FromResult(!process.Runs.IsEmpty));
        return process;
    }

    static StorageProxy ProxyOf(string connectionString) => new(new BlobServiceClient(connectionString).Uri.Port);

    [Fact]
    public async Task A_renewal_storage_does_not_answer_in_time_stops_the_timer_until_storage_answers_again()
    {
        await using var proxy = ProxyOf(storage.ConnectionString);
        var process = await RunningThroughAsync(proxy);

        // The next lease request is the renewal: it hangs, as storage that accepts a connection and never answers.
        await proxy.HoldFirst(r => r.Method == "PUT" && r.Target.Contains("comp=lease")).WaitAsync(ListenerLock.Renewal * 2);
        await StopsRunningAsync(process.Runs, ListenerLock.Renewal * 2); // the renewal is given up before the lease could run out
        var stoppedAt = process.Runs.Count;

        await Eventually.HoldsAsync(() => Task.FromResult(process.Runs.Count > stoppedAt), ListenerLock.Renewal * 2); // the lease id is still its own
        await process.Timers.StopAsync(default);
    }

    [Fact]
    public async Task After_a_renewal_storage_refused_the_lock_is_held_again_at_the_next_try_as_the_lease_is_still_its_own()
    {
        await using var proxy = ProxyOf(storage.ConnectionString);
        var process = await RunningThroughAsync(proxy);

        // The next lease request is the renewal: refused at once, while the lease still has two thirds of its period to run.
        await proxy.RefuseFirst(r => r.Method == "PUT" && r.Target.Contains("comp=lease"), HttpStatusCode.BadRequest).WaitAsync(ListenerLock.Renewal * 2);
        var refusedAt = DateTime.UtcNow;
        await StopsRunningAsync(process.Runs, ListenerLock.Renewal);
        var stoppedAt = process.Runs.Count;

        // Taken again with its own lease id at the next try; another id would be refused until the lease ran out, a try later.
        await Eventually.HoldsAsync(() => Task.FromResult(process.Runs.Count > stoppedAt), ListenerLock.Period);
        // Due before the lease, last renewed a Renewal before the refusal, runs out (Period - Renewal after it): no other lease id could take it by then.
        Assert.InRange(process.Runs.ElementAt(stoppedAt) - refusedAt, TimeSpan.Zero, ListenerLock.Period - ListenerLock.Renewal);
        await process.Timers.StopAsync(default);
    }

    [Fact]
    public async Task A_stop_whose_release_storage_does_not_answer_ends_within_a_second_or_two()
    {
        await using var proxy = ProxyOf(storage.ConnectionString);
        var process = await RunningThroughAsync(proxy);

        var held = proxy.HoldFirst(r => r.Method == "PUT" && r.Target.Contains("comp=lease")); // the release (or a renewal just before it)
        var stopping = Stopwatch.StartNew();
        await process.Timers.StopAsync(default).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.True(held.IsCompleted);
        Assert.InRange(stopping.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2)); // within ListenAddress.ShutdownBound, with the Durable drain after it
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (timers, services) in _processes)
        {
            await timers.StopAsync(default);
            await services.DisposeAsync();
        }
    }
}

using Azure;
using DurableTask.Core;
using Functions.LocalHost;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Moq;

namespace Functions.Tests.Host;

/// <summary>The engine is the seam here: what matters is which calls the sidecar's dispatcher sees go through to it, and when.</summary>
public sealed class ActivityLockRenewalsTests
{
    static readonly TimeSpan Visibility = TimeSpan.FromMilliseconds(200);
    // ActivityLockRenewals tries a failed renewal again after a second.
    static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    static (Mock<IOrchestrationService> Engine, SidecarOrchestrationService Service, TaskActivityWorkItem WorkItem) Running(bool engineKeepsIt = true,
        TimeSpan? longestActivity = null, TimeSpan? visibility = null, ILogger? logger = null)
    {
        var timeout = visibility ?? Visibility;
        var workItem = new TaskActivityWorkItem { Id = "activity-1" };
        var engine = new Mock<IOrchestrationService>();
        engine.Setup(e => e.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ReturnsAsync(() =>
        {
            workItem.LockedUntilUtc = DateTime.UtcNow.Add(timeout); // locked when fetched
            return workItem;
        });
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem)).ReturnsAsync(() =>
        {
            workItem.LockedUntilUtc = engineKeepsIt ? DateTime.UtcNow.Add(timeout) : DateTime.UtcNow.AddSeconds(-1);
            return workItem;
        });
        return (engine, new SidecarOrchestrationService(engine.Object, timeout, longestActivity ?? TimeSpan.FromMinutes(1), logger ?? NullLogger.Instance), workItem);
    }

    static int Renewals(Mock<IOrchestrationService> engine) =>
        engine.Invocations.Count(i => i.Method.Name == nameof(IOrchestrationService.RenewTaskActivityWorkItemLockAsync));

    [Fact]
    public async Task A_running_activity_keeps_its_lock_until_it_completes_and_not_after()
    {
        var (engine, service, _) = Running();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        // Waited for, not timed: on a loaded machine the renewal timer may fall behind.
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= 4));
        await service.CompleteTaskActivityWorkItemAsync(locked, new TaskMessage());
        var whileRunning = Renewals(engine);
        var ran = clock.Elapsed;
        await Task.Delay(Visibility * 2);

        Assert.InRange(whileRunning, 4, (int)(ran / (Visibility / 3)) + 2); // every 67 ms, not more often
        Assert.Equal(whileRunning, Renewals(engine));
        engine.Verify(e => e.CompleteTaskActivityWorkItemAsync(locked, It.IsAny<TaskMessage>()), Times.Once);
    }

    [Fact]
    public async Task Each_renewal_comes_while_two_thirds_of_the_lock_are_left()
    {
        // Longer than the other tests' timeout: a renewal late by a loaded machine's timer still comes well before the lock runs out.
        var visibility = TimeSpan.FromSeconds(1.5);
        var (engine, service, workItem) = Running(visibility: visibility);
        var leftAtRenewals = new System.Collections.Concurrent.ConcurrentQueue<TimeSpan>();
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem)).Returns(() =>
        {
            leftAtRenewals.Enqueue(workItem.LockedUntilUtc - DateTime.UtcNow); // of the fetch's lock, then of the last renewal's
            workItem.LockedUntilUtc = DateTime.UtcNow.Add(visibility);
            return Task.FromResult(workItem);
        });

        var locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await Eventually.HoldsAsync(() => Task.FromResult(leftAtRenewals.Count >= 3));
        await service.CompleteTaskActivityWorkItemAsync(locked, new TaskMessage());

        Assert.All(leftAtRenewals, left => Assert.True(left > visibility / 3, $"renewed with {left.TotalMilliseconds} ms of the lock left"));
    }

    [Fact]
    public async Task An_abandoned_activity_is_no_longer_renewed()
    {
        var (engine, service, _) = Running();

        var locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await service.AbandonTaskActivityWorkItemAsync(locked);
        var atAbandon = Renewals(engine); // 0, or 1 when a loaded machine let a renewal come before the abandon (seen in CI)
        await Task.Delay(Visibility * 2);

        Assert.Equal(atAbandon, Renewals(engine));
        engine.Verify(e => e.AbandonTaskActivityWorkItemAsync(locked), Times.Once);
    }

    [Theory]
    [InlineData(true)] // as the local host does when it stops, before the sidecar's own stop
    [InlineData(false)] // the sidecar's stop of the engine
    public async Task Stopping_the_engine_lets_a_cut_off_activity_go_so_that_its_message_comes_back(bool lettingGoFirst)
    {
        var (engine, service, _) = Running();

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await (lettingGoFirst ? service.LetGoOfActivitiesAsync(default) : service.StopAsync());
        var atStop = Renewals(engine);
        await Task.Delay(Visibility * 3);

        Assert.Equal(atStop, Renewals(engine));
    }

    [Fact]
    public async Task Letting_go_at_a_stop_waits_for_a_renewal_that_hangs_only_until_the_stops_bound()
    {
        var (engine, service, workItem) = Running();
        var renewalSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem)).Returns(() =>
        {
            renewalSent.TrySetResult();
            return new TaskCompletionSource<TaskActivityWorkItem>().Task; // a storage that stopped answering
        });
        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await renewalSent.Task.WaitAsync(Bound);
        using var stopBound = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var lettingGo = service.LetGoOfActivitiesAsync(stopBound.Token);

        await lettingGo.WaitAsync(Bound); // returns, without throwing, once the bound has passed
        Assert.True(stopBound.IsCancellationRequested);
    }

    [Fact]
    public async Task Renewal_stops_when_the_engine_has_given_the_work_item_up()
    {
        var (engine, service, _) = Running(engineKeepsIt: false);

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        // Waited for, not timed: under load the first renewal can come later than any fixed delay.
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= 1));
        await RenewalEndedAsync(service);

        Assert.Equal(1, Renewals(engine));
    }

    /// <summary>
    /// Until the activity's renewal has ended on its own: the drain waits for the activity until then, as the sidecar's
    /// count of work under way lets go of it only once its renewal has returned.
    /// </summary>
    static async Task RenewalEndedAsync(SidecarOrchestrationService service)
    {
        using var stopBound = new CancellationTokenSource(Bound);
        Assert.True(await service.DrainAsync(stopBound.Token));
    }

    [Fact]
    public async Task A_renewal_under_way_ends_before_the_activitys_message_is_completed()
    {
        var (engine, service, workItem) = Running();
        var renewing = new TaskCompletionSource<TaskActivityWorkItem>(TaskCreationOptions.RunContinuationsAsynchronously);
        var renewalSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem)).Returns(() =>
        {
            renewalSent.TrySetResult();
            return renewing.Task;
        });

        var locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await renewalSent.Task.WaitAsync(Bound);
        var completing = service.CompleteTaskActivityWorkItemAsync(locked, new TaskMessage());
        await Task.Delay(100);

        // The two would race on the message's pop receipt: the completion waits for the renewal's answer.
        Assert.False(completing.IsCompleted);
        engine.Verify(e => e.CompleteTaskActivityWorkItemAsync(locked, It.IsAny<TaskMessage>()), Times.Never);
        workItem.LockedUntilUtc = DateTime.UtcNow.Add(Visibility);
        renewing.SetResult(workItem);
        await completing.WaitAsync(Bound);
        engine.Verify(e => e.CompleteTaskActivityWorkItemAsync(locked, It.IsAny<TaskMessage>()), Times.Once);
    }

    [Fact]
    public async Task After_a_failed_renewal_the_lock_is_renewed_every_third_of_the_timeout_again()
    {
        var (engine, service, workItem) = Running();
        var failed = 0;
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem)).Returns(() =>
        {
            if (Interlocked.Increment(ref failed) == 1) return Task.FromException<TaskActivityWorkItem>(new RequestFailedException(503, "Server busy"));
            workItem.LockedUntilUtc = DateTime.UtcNow.Add(Visibility);
            return Task.FromResult(workItem);
        });

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= 2)); // the failure, then its retry a second later
        // Four more within one retry's wait: at the renewal pace (every 67 ms), not at the retry's (every second).
        var retried = Renewals(engine);
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= retried + 4), RetryAfterFailure * 1.5);
    }

    [Fact]
    public async Task Renewals_that_keep_failing_are_warned_of_once_and_their_end_is_told()
    {
        var logs = new FakeLogCollector();
        var (engine, service, workItem) = Running(logger: new FakeLogger(logs));
        var tries = 0;
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem)).Returns(() =>
        {
            if (Interlocked.Increment(ref tries) <= 3) return Task.FromException<TaskActivityWorkItem>(new RequestFailedException(503, "Server busy"));
            workItem.LockedUntilUtc = DateTime.UtcNow.Add(Visibility);
            return Task.FromResult(workItem);
        });

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await Eventually.HoldsAsync(() => Task.FromResult(logs.GetSnapshot().Any(r => r.Message.Contains("again, after 3 failed tries"))),
            RetryAfterFailure * 10);

        Assert.Single(logs.GetSnapshot(), r => r.Level == LogLevel.Warning); // not one per try
    }

    [Theory]
    [InlineData(404, "MessageNotFound")] // completed or deleted meanwhile
    [InlineData(400, "PopReceiptMismatch")] // received by another worker since
    public async Task A_message_that_is_no_longer_ours_is_not_renewed_again(int status, string code)
    {
        var (engine, service, workItem) = Running();
        // Wrapped, as DurableTask.AzureStorage throws the storage SDK's exceptions.
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem))
            .ThrowsAsync(new InvalidOperationException("An error occurred while communicating with Azure Storage", new RequestFailedException(status, "gone", code, null)));

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= 1));
        await RenewalEndedAsync(service); // ended, where a failure storage may recover from is tried again a second later

        Assert.Equal(1, Renewals(engine));
    }

    [Fact]
    public async Task An_activity_the_sidecar_lost_is_renewed_no_longer_than_the_longest_an_activity_can_take()
    {
        var longest = TimeSpan.FromMilliseconds(500);
        var (engine, service, _) = Running(longestActivity: longest);

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default); // and never completed nor abandoned
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= 1));
        await RenewalEndedAsync(service);

        Assert.InRange(Renewals(engine), 1, (int)(longest / (Visibility / 3)) + 1); // every 67 ms, up to the bound and not past it
    }

    [Theory]
    [InlineData(true)] // its worker gone: nothing completes or abandons it, and the longest an activity can take passes
    [InlineData(false)] // the engine gave it up
    public async Task An_activity_whose_renewal_ended_on_its_own_is_not_waited_for_by_the_drain(bool lostBySidecar)
    {
        var logs = new FakeLogCollector();
        var (engine, service, _) = Running(engineKeepsIt: lostBySidecar, longestActivity: TimeSpan.FromMilliseconds(500),
            logger: new FakeLogger(logs));
        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= 1));

        using var stopBound = new CancellationTokenSource(Bound);
        Assert.True(await service.DrainAsync(stopBound.Token)); // false once the bound passed with the activity still counted as under way
        Assert.Equal(lostBySidecar, logs.GetSnapshot().Any(r => r.Level == LogLevel.Warning && r.Message.Contains("given up")));
    }
}

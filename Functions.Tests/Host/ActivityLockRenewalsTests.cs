using DurableTask.Core;
using Functions.LocalHost;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Functions.Tests.Host;

/// <summary>The engine is the seam here: what matters is which calls the sidecar's dispatcher sees go through to it, and when.</summary>
public sealed class ActivityLockRenewalsTests
{
    static readonly TimeSpan Visibility = TimeSpan.FromMilliseconds(200);

    static (Mock<IOrchestrationService> Engine, SidecarOrchestrationService Service, TaskActivityWorkItem WorkItem) Running(bool engineKeepsIt = true)
    {
        var workItem = new TaskActivityWorkItem { Id = "activity-1", LockedUntilUtc = DateTime.UtcNow.Add(Visibility) };
        var engine = new Mock<IOrchestrationService>();
        engine.Setup(e => e.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ReturnsAsync(workItem);
        engine.Setup(e => e.RenewTaskActivityWorkItemLockAsync(workItem)).ReturnsAsync(() =>
        {
            workItem.LockedUntilUtc = engineKeepsIt ? DateTime.UtcNow.Add(Visibility) : DateTime.UtcNow.AddSeconds(-1);
            return workItem;
        });
        return (engine, new SidecarOrchestrationService(engine.Object, Visibility, TimeSpan.FromMinutes(1), NullLogger.Instance), workItem);
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
    public async Task An_abandoned_activity_is_no_longer_renewed()
    {
        var (engine, service, _) = Running();

        var locked = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await service.AbandonTaskActivityWorkItemAsync(locked);
        await Task.Delay(Visibility * 2);

        Assert.Equal(0, Renewals(engine));
        engine.Verify(e => e.AbandonTaskActivityWorkItemAsync(locked), Times.Once);
    }

    [Fact]
    public async Task Stopping_the_engine_lets_a_cut_off_activity_go_so_that_its_message_comes_back()
    {
        var (engine, service, _) = Running();

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        await service.LetGoOfActivitiesAsync(); // as the local host does when it stops
        var atStop = Renewals(engine);
        await Task.Delay(Visibility * 3);

        Assert.Equal(atStop, Renewals(engine));
    }

    [Fact]
    public async Task Renewal_stops_when_the_engine_has_given_the_work_item_up()
    {
        var (engine, service, _) = Running(engineKeepsIt: false);

        await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        // Waited for, not timed: under load the first renewal can come later than any fixed delay.
        await Eventually.HoldsAsync(() => Task.FromResult(Renewals(engine) >= 1));
        await Task.Delay(Visibility * 2); // six renewal periods

        Assert.Equal(1, Renewals(engine));
    }
}

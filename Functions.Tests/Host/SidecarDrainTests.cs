using DurableTask.Core;
using Functions.LocalHost;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Functions.Tests.Host;

/// <summary>
/// The sidecar's drain at a stop, against a mocked engine (the seam: which work items the dispatchers are given, and
/// when): it waits for every activity and orchestration step under way, and meanwhile hands out no new work.
/// </summary>
public sealed class SidecarDrainTests
{
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);
    readonly Mock<IOrchestrationService> _engine = new();
    readonly CountsWaits _clock = new();

    SidecarOrchestrationService Service() => new(_engine.Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), NullLogger.Instance, time: _clock);

    /// <summary>Until the drain has looked at the work under way since this call and found some (it waits to look again), or ended.</summary>
    Task LookedAgainAsync(Task drain)
    {
        var waits = _clock.Waits; // the wait after next follows a look begun after this
        return Eventually.HoldsAsync(() => Task.FromResult(_clock.Waits >= waits + 2 || drain.IsCompleted), Bound);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task A_drain_ends_once_the_activity_and_the_orchestration_step_under_way_are_done(bool activityFirst, bool abandoned)
    {
        _engine.Setup(e => e.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new TaskActivityWorkItem { Id = "activity-1", LockedUntilUtc = DateTime.UtcNow.AddMinutes(1) });
        _engine.Setup(e => e.LockNextTaskOrchestrationWorkItemAsync(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new TaskOrchestrationWorkItem { InstanceId = "job-1" });
        var service = Service();
        var activity = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), default);
        var step = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(1), default);
        Func<Task> endActivity = () => abandoned ? service.AbandonTaskActivityWorkItemAsync(activity)
            : service.CompleteTaskActivityWorkItemAsync(activity, new TaskMessage());
        Func<Task> endStep = () => service.ReleaseTaskOrchestrationWorkItemAsync(step);

        var drain = service.DrainAsync(CancellationToken.None);
        await LookedAgainAsync(drain);
        Assert.False(drain.IsCompleted);
        await (activityFirst ? endActivity() : endStep());
        await LookedAgainAsync(drain);
        Assert.False(drain.IsCompleted); // the other one is still under way

        await (activityFirst ? endStep() : endActivity());
        Assert.True(await drain.WaitAsync(Bound));
    }

    [Fact]
    public async Task While_draining_a_fetch_under_way_or_new_takes_no_work_and_ends_with_the_dispatchers_stop()
    {
        var message = new TaskCompletionSource<TaskActivityWorkItem>(TaskCreationOptions.RunContinuationsAsynchronously);
        var fetching = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        _engine.Setup(e => e.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
            .Returns((TimeSpan _, CancellationToken token) =>
            {
                fetching.TrySetResult(token);
                return message.Task.WaitAsync(token);
            });
        var service = Service();
        using var dispatcherStop = new CancellationTokenSource();
        var underWay = service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(30), dispatcherStop.Token);
        var engineFetch = await fetching.Task.WaitAsync(Bound);

        Assert.True(await service.DrainAsync(CancellationToken.None).WaitAsync(Bound)); // nothing was under way
        Assert.True(engineFetch.IsCancellationRequested); // the engine's fetch under way is cut: the message cannot go to it
        var after = service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(30), dispatcherStop.Token); // draining, it waits before it awaits anything
        message.SetResult(new TaskActivityWorkItem { Id = "activity-1", LockedUntilUtc = DateTime.UtcNow.AddMinutes(1) });

        // Neither took the message that came, nor answered null (which the dispatcher would fetch again at once): each ends only with the dispatcher's stop.
        Assert.False(underWay.IsCompleted);
        Assert.False(after.IsCompleted);
        _engine.Verify(e => e.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()), Times.Once);
        dispatcherStop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => underWay.WaitAsync(Bound));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => after.WaitAsync(Bound));
    }

    /// <summary>The system clock, counting the waits begun on it.</summary>
    sealed class CountsWaits : TimeProvider
    {
        int _waits;
        public int Waits => Volatile.Read(ref _waits);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _waits);
            return System.CreateTimer(callback, state, dueTime, period);
        }
    }
}

using DurableTask.Core;
using Functions.LocalHost;
using Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Functions.Tests.Host;

/// <summary>
/// The sidecar starts and stops the engine from async void handlers, where an exception ends the process (in the test
/// run, every test still to run): the start and the stop must end, and end without throwing, whatever the engine does.
/// </summary>
public sealed class SidecarEngineStartStopTests
{
    static readonly TimeSpan StopBound = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan FirstStartRetry = TimeSpan.FromMilliseconds(20);
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    static SidecarOrchestrationService Over(Mock<IOrchestrationService> engine) =>
        new(engine.Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), NullLogger.Instance, StopBound, FirstStartRetry);

    [Fact]
    public async Task A_start_that_fails_is_tried_again_until_the_engine_starts()
    {
        var engine = new Mock<IOrchestrationService>();
        engine.SetupSequence(e => e.StartAsync())
            .ThrowsAsync(new InvalidOperationException("storage gone"))
            .ThrowsAsync(new InvalidOperationException("storage gone"))
            .Returns(Task.CompletedTask);
        engine.Setup(e => e.StopAsync(It.IsAny<bool>())).Returns(Task.CompletedTask);
        var service = Over(engine);

        await service.StartAsync().WaitAsync(Bound);
        await service.StopAsync();

        engine.Verify(e => e.StartAsync(), Times.Exactly(3));
        engine.Verify(e => e.StopAsync(false), Times.Once); // it counts as started
    }

    [Fact]
    public async Task The_stop_ends_a_start_that_keeps_failing_without_an_exception()
    {
        var engine = new Mock<IOrchestrationService>();
        var attempts = 0;
        engine.Setup(e => e.StartAsync()).Returns(() =>
        {
            Interlocked.Increment(ref attempts);
            return Task.FromException(new InvalidOperationException("storage gone"));
        });
        var service = Over(engine);
        var start = service.StartAsync();
        await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref attempts) >= 2));

        await service.StopAsync().WaitAsync(Bound); // once an attempt under way has ended: it waits for the start's gate
        var atTheStop = Volatile.Read(ref attempts);
        await start.WaitAsync(Bound); // the retries, the only caller of the engine's start, have ended

        Assert.Equal(atTheStop, Volatile.Read(ref attempts));
        engine.Verify(e => e.StopAsync(It.IsAny<bool>()), Times.Never);
    }

    [Fact]
    public async Task A_start_after_the_stop_starts_nothing_and_fetches_nothing()
    {
        var engine = new Mock<IOrchestrationService>();
        var service = Over(engine);

        await service.StopAsync();
        await service.StartAsync().WaitAsync(Bound);
        using var dispatcherStop = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var fetch = service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(1), dispatcherStop.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetch.WaitAsync(Bound)); // parked until the dispatcher stops
        Assert.Empty(engine.Invocations);
    }

    static async Task<(Mock<IOrchestrationService> Engine, SidecarOrchestrationService Service)> StartedAsync(Func<Task> engineStop)
    {
        var engine = new Mock<IOrchestrationService>();
        engine.Setup(e => e.StartAsync()).Returns(Task.CompletedTask);
        engine.Setup(e => e.StopAsync(It.IsAny<bool>())).Returns(engineStop);
        var service = Over(engine);
        await service.StartAsync();
        return (engine, service);
    }

    [Fact]
    public async Task An_engine_that_never_started_is_not_stopped()
    {
        var engine = new Mock<IOrchestrationService>(MockBehavior.Strict);
        var service = Over(engine);

        await service.StopAsync();

        engine.Verify(e => e.StopAsync(It.IsAny<bool>()), Times.Never);
    }

    [Fact]
    public async Task An_engine_whose_stop_hangs_is_left_after_the_bound()
    {
        var (engine, service) = await StartedAsync(() => Task.Delay(Timeout.Infinite)); // its partition manager waiting on storage that is gone

        await service.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        engine.Verify(e => e.StopAsync(false), Times.Once);
    }

    [Fact]
    public async Task An_engine_whose_stop_fails_does_not_fail_the_stop()
    {
        var (engine, service) = await StartedAsync(() => Task.FromException(new TimeoutException("Timed-out waiting for the partition manager to shut down.")));

        await service.StopAsync();
        await service.StopAsync(); // and a second stop does not try again

        engine.Verify(e => e.StopAsync(false), Times.Once);
    }
}

using DurableTask.Core;
using Functions.LocalHost;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Functions.Tests.Host;

/// <summary>
/// The sidecar stops the engine from an async void handler, where an exception ends the process (in the test run, every
/// test still to run): the stop must end, and end without throwing, whatever the engine does.
/// </summary>
public sealed class SidecarEngineStopTests
{
    static readonly TimeSpan StopBound = TimeSpan.FromMilliseconds(200);

    static async Task<(Mock<IOrchestrationService> Engine, SidecarOrchestrationService Service)> StartedAsync(Func<Task> engineStop)
    {
        var engine = new Mock<IOrchestrationService>();
        engine.Setup(e => e.StartAsync()).Returns(Task.CompletedTask);
        engine.Setup(e => e.StopAsync(It.IsAny<bool>())).Returns(engineStop);
        var service = new SidecarOrchestrationService(engine.Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), NullLogger.Instance, StopBound);
        await service.StartAsync();
        return (engine, service);
    }

    [Fact]
    public async Task An_engine_that_never_started_is_not_stopped()
    {
        var engine = new Mock<IOrchestrationService>(MockBehavior.Strict);
        var service = new SidecarOrchestrationService(engine.Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), NullLogger.Instance, StopBound);

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

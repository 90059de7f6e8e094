using DurableTask.Core;
using DurableTask.Core.History;
using Functions.LocalHost;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Functions.Tests.Host;

/// <summary>
/// The messages DTFx's dispatcher drops before a step and the sidecar's does not (a start delivered again, another
/// execution's events), against a mocked engine: the seam is which messages a work item is given.
/// </summary>
public sealed class SidecarStaleMessagesTests
{
    static OrchestrationInstance Execution(string? id) => new() { InstanceId = "job-1", ExecutionId = id };

    static TaskMessage Start(string execution) =>
        new() { Event = new ExecutionStartedEvent(-1, "{}") { Name = "GenerationOrchestrator", OrchestrationInstance = Execution(execution) }, OrchestrationInstance = Execution(execution) };

    static TaskMessage TimerFired(string? execution) =>
        new() { Event = new TimerFiredEvent(-1) { TimerId = 1, FireAt = DateTime.UtcNow }, OrchestrationInstance = Execution(execution) };

    static OrchestrationRuntimeState StartedAs(string execution) => new([((ExecutionStartedEvent)Start(execution).Event)]);

    [Fact]
    public async Task A_start_delivered_again_to_a_started_job_is_dropped_and_its_other_messages_kept()
    {
        var timer = TimerFired("e1");
        var engine = new Mock<IOrchestrationService>();
        engine.Setup(e => e.LockNextTaskOrchestrationWorkItemAsync(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new TaskOrchestrationWorkItem { InstanceId = "job-1", OrchestrationRuntimeState = StartedAs("e1"), NewMessages = [Start("e1"), timer] });
        var service = new SidecarOrchestrationService(engine.Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), NullLogger.Instance);

        var step = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(1), default);

        Assert.Equal([timer], step.NewMessages);
    }

    [Fact]
    public void Of_two_starts_for_a_new_job_the_first_is_kept()
    {
        var first = Start("e1");
        var step = new TaskOrchestrationWorkItem { InstanceId = "job-1", OrchestrationRuntimeState = new OrchestrationRuntimeState(), NewMessages = [first, Start("e1")] };

        SidecarOrchestrationService.DropStaleMessages(step, NullLogger.Instance);

        Assert.Equal([first], step.NewMessages);
    }

    [Fact]
    public void Another_executions_events_are_dropped_and_events_for_any_execution_kept()
    {
        var current = TimerFired("e2");
        var anyExecution = TimerFired(null);
        var step = new TaskOrchestrationWorkItem { InstanceId = "job-1", OrchestrationRuntimeState = StartedAs("e2"), NewMessages = [TimerFired("e1"), current, anyExecution] };

        SidecarOrchestrationService.DropStaleMessages(step, NullLogger.Instance);

        Assert.Equal([current, anyExecution], step.NewMessages);
    }

    [Fact]
    public void Events_for_a_job_with_no_execution_known_yet_are_all_kept()
    {
        var messages = new List<TaskMessage> { TimerFired("e1"), TimerFired("e2") };
        var step = new TaskOrchestrationWorkItem { InstanceId = "job-1", OrchestrationRuntimeState = new OrchestrationRuntimeState(), NewMessages = messages };

        SidecarOrchestrationService.DropStaleMessages(step, NullLogger.Instance);

        Assert.Same(messages, step.NewMessages); // no execution to tell them stale against: the engine decides
    }

    [Fact]
    public void A_step_with_nothing_stale_keeps_its_list()
    {
        var messages = new List<TaskMessage> { Start("e1"), TimerFired("e1") };
        var step = new TaskOrchestrationWorkItem { InstanceId = "job-1", OrchestrationRuntimeState = new OrchestrationRuntimeState(), NewMessages = messages };

        SidecarOrchestrationService.DropStaleMessages(step, NullLogger.Instance);

        Assert.Same(messages, step.NewMessages);
    }
}

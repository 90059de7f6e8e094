using DurableTask.Core;
using Azure;
using DurableTask.Core.Exceptions;
using Functions.LocalHost;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;

namespace Functions.Tests.Host;

/// <summary>
/// A step another process of the task hub completed first (two local hosts on one storage, one slow): the engine
/// refuses the second completion. Against a mocked engine: the seam is the engine's refusal, which needs two processes
/// and a slow machine to happen for real (a helper's probe saw 11 to 47 such Error stacks a run).
/// </summary>
public sealed class SidecarConflictingCompletionTests
{
    public static TheoryData<Exception> Refusals => new()
    {
        new SessionAbortedException("Aborting execution due to conflicting completion of the work item by another worker."),
        // DurableTask.AzureStorage wraps storage's answers (in an internal type): the history's ETag moved; the messages' pop receipts changed.
        new Exception("An error occurred while communicating with Azure Storage", new RequestFailedException(412, "The update condition specified in the request was not satisfied.", "UpdateConditionNotSatisfied", null)),
        new Exception("An error occurred while communicating with Azure Storage", new RequestFailedException(400, "The specified pop receipt did not match the pop receipt for a dequeued message.", "PopReceiptMismatch", null)),
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_completion_another_process_made_first_is_abandoned_with_one_warning_line_not_an_error(Exception refusal)
    {
        var engine = new Mock<IOrchestrationService>();
        engine.Setup(e => e.CompleteTaskOrchestrationWorkItemAsync(It.IsAny<TaskOrchestrationWorkItem>(), It.IsAny<OrchestrationRuntimeState>(),
                It.IsAny<IList<TaskMessage>>(), It.IsAny<IList<TaskMessage>>(), It.IsAny<IList<TaskMessage>>(), It.IsAny<TaskMessage>(), It.IsAny<OrchestrationState>()))
            .ThrowsAsync(refusal);
        // The messages may be the other process's by now: abandoning them is refused too.
        engine.Setup(e => e.AbandonTaskOrchestrationWorkItemAsync(It.IsAny<TaskOrchestrationWorkItem>())).ThrowsAsync(refusal);
        var logger = new FakeLogger();
        var service = new SidecarOrchestrationService(engine.Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), logger);
        var workItem = new TaskOrchestrationWorkItem { InstanceId = "job_0123456789abcdef0123456789abc" };

        await service.CompleteTaskOrchestrationWorkItemAsync(workItem, null!, [], [], [], null!, null!);

        engine.Verify(e => e.AbandonTaskOrchestrationWorkItemAsync(workItem), Times.Once);
        var line = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Null(line.Exception);
        Assert.Contains("Job job_0123456789abcdef0123456789abc: another process of the task hub completed this step, or took its messages, first", line.Message);
        Assert.Contains((refusal.InnerException ?? refusal).Message, line.Message); // storage's words, not its wrapper's
    }

    [Fact]
    public async Task Any_other_failure_to_complete_reaches_the_dispatcher()
    {
        var engine = new Mock<IOrchestrationService>();
        engine.Setup(e => e.CompleteTaskOrchestrationWorkItemAsync(It.IsAny<TaskOrchestrationWorkItem>(), It.IsAny<OrchestrationRuntimeState>(),
                It.IsAny<IList<TaskMessage>>(), It.IsAny<IList<TaskMessage>>(), It.IsAny<IList<TaskMessage>>(), It.IsAny<TaskMessage>(), It.IsAny<OrchestrationState>()))
            .ThrowsAsync(new InvalidOperationException("storage"));
        var service = new SidecarOrchestrationService(engine.Object, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), new FakeLogger());

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            service.CompleteTaskOrchestrationWorkItemAsync(new TaskOrchestrationWorkItem { InstanceId = "job-1" }, null!, [], [], [], null!, null!));
        engine.Verify(e => e.AbandonTaskOrchestrationWorkItemAsync(It.IsAny<TaskOrchestrationWorkItem>()), Times.Never);
    }
}

using Functions.Generation;
using Functions.Jobs;
using Functions.Tests.Api;
using Grpc.Core.Interceptors;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using P = Microsoft.DurableTask.Protobuf;

namespace Functions.Tests.Jobs;

/// <summary>
/// The app whose engine cannot be reached for a terminate, and only after the job's Submit has read the cancel record:
/// the Submit waits until a DELETE asks for its terminate, and that terminate fails once the Submit has run.
/// </summary>
public sealed class TerminateFailsAfterSubmitFixture : HeldSubmitFixture
{
    readonly UnreachableTerminates _terminates;
    int _upstreamCallsBeforeTheFailure;

    /// <summary>Provider calls made before the DELETE's terminate failed: while the job's cancel was recorded.</summary>
    public int UpstreamCallsBeforeTheFailure => Volatile.Read(ref _upstreamCallsBeforeTheFailure);

    public TerminateFailsAfterSubmitFixture()
    {
        _terminates = new UnreachableTerminates(() => SubmitRan.Task);
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Callback(() => { if (!_terminates.Failed.Task.IsCompleted) Interlocked.Increment(ref _upstreamCallsBeforeTheFailure); })
            .ReturnsAsync(ProviderStep.Done(Image()));
    }

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Upstream:PollMinSeconds"] = "0.1",
        ["Upstream:PollMaxSeconds"] = "0.1", // the wait for a cancel's terminate: its floor, 1 s
        ["Upstream:DeadlineSeconds"] = "60",
    };

    protected override Interceptor ClientCalls => _terminates;

    protected override Task Hold(P.WorkItem item) =>
        item.RequestCase == P.WorkItem.RequestOneofCase.ActivityRequest ? _terminates.Asked.Task : Task.CompletedTask;
}

public sealed class CancelTakenBackTests(TerminateFailsAfterSubmitFixture app) : IClassFixture<TerminateFailsAfterSubmitFixture>
{
    [Fact]
    public async Task A_cancel_taken_back_after_the_submit_read_it_leaves_the_job_to_submit_again_and_succeed()
    {
        var (path, response) = await JobsApiTests.SubmitThenDeleteAsync(app.Client, "its cancel was taken back");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        // The Submit found the record and called no upstream; the terminate never came, so the job submitted again.
        var job = await JobsApiTests.PollAsync(app.Client, path, seconds: 45);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        app.Provider.Verify(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()), Times.Once());
        Assert.Equal(0, app.UpstreamCallsBeforeTheFailure);
        Assert.False(await app.HasCancelRecordAsync(path.Split('/')[^1]));
    }

    [Theory]
    [InlineData(false, 1)] // the first Submit terminates a job its row shows terminated again: that terminate may have been dropped
    [InlineData(true, 1)] // and one sent again after the wait: the job still runs, so the terminate it waited for was lost
    public async Task A_submit_of_a_job_shown_terminated_terminates_it_again_each_time(bool afterCancel, int terminates)
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        var durable = new Mock<DurableTaskClient>("seam") { CallBase = true }; // its convenience overloads call the abstract ones
        durable.Setup(c => c.GetInstanceAsync(jobId, true, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new OrchestrationMetadata(GenerationOrchestrator.Name, jobId) { RuntimeStatus = OrchestrationRuntimeStatus.Terminated });
        durable.Setup(c => c.TerminateInstanceAsync(jobId, It.IsAny<TerminateInstanceOptions>(), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        var call = new UpstreamCall(jobId, new GenerationRequest("terminated", "none", "1:1", "grok", null, false, null, null), 0, "grok",
            AfterCancel: afterCancel);
        var activities = ActivatorUtilities.CreateInstance<GenerationActivities>(app.App.Services);

        var step = await activities.SubmitGeneration(call, durable.Object);

        Assert.Equal(GenerationErrors.Canceled, step.Failure?.Code);
        durable.Verify(c => c.TerminateInstanceAsync(jobId, It.IsAny<TerminateInstanceOptions>(), It.IsAny<CancellationToken>()), Times.Exactly(terminates));
        app.Provider.Verify(p => p.SubmitAsync(It.Is<ProviderCall>(c => c.Input.Request.Prompt == "terminated"), It.IsAny<CancellationToken>()), Times.Never());
    }

    [Theory]
    [InlineData(false, 0)] // the first Submit that finds the cancel record: the DELETE's terminate is on its way
    [InlineData(true, 1)] // one sent again after the wait: that terminate was lost
    public async Task A_submit_of_a_running_job_with_a_cancel_record_terminates_it_again_only_after_the_wait(bool afterCancel, int terminates)
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        await app.Service<CancelRequests>().RecordAsync(jobId, CancellationToken.None);
        var durable = new Mock<DurableTaskClient>("seam") { CallBase = true };
        durable.Setup(c => c.GetInstanceAsync(jobId, true, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new OrchestrationMetadata(GenerationOrchestrator.Name, jobId) { RuntimeStatus = OrchestrationRuntimeStatus.Running });
        durable.Setup(c => c.TerminateInstanceAsync(jobId, It.IsAny<TerminateInstanceOptions>(), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        var call = new UpstreamCall(jobId, new GenerationRequest("cancel recorded", "none", "1:1", "grok", null, false, null, null), 0, "grok",
            AfterCancel: afterCancel);

        var step = await ActivatorUtilities.CreateInstance<GenerationActivities>(app.App.Services).SubmitGeneration(call, durable.Object);

        Assert.Equal(GenerationErrors.Canceled, step.Failure?.Code);
        durable.Verify(c => c.TerminateInstanceAsync(jobId, It.IsAny<TerminateInstanceOptions>(), It.IsAny<CancellationToken>()), Times.Exactly(terminates));
    }
}

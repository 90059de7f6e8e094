using Functions.Files;
using Functions.Generation;
using Functions.History;
using Functions.Hosting;
using Functions.Jobs;
using Functions.Storage;
using Functions.Tests.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>A job that ends on its own while its cancel is on the way stays as it ended, and the answer says nothing was deleted.</summary>
public sealed class CancelRaceTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    readonly Mock<DurableTaskClient> _durable = new("test");

    [Theory]
    [InlineData(null)] // the local host's sidecar takes the terminate of an ended instance
    [InlineData(Grpc.Core.StatusCode.FailedPrecondition)] // the Durable extension refuses it
    public async Task A_job_that_ended_before_its_cancel_took_effect_is_not_deleted_nor_shown_canceled(Grpc.Core.StatusCode? refusal)
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);
        var lookups = 0;
        _durable.Setup(d => d.GetInstanceAsync(jobId, It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync(() =>
            new OrchestrationMetadata(GenerationOrchestrator.Name, jobId)
            {
                // Running when the DELETE looks, then completed: the Store won the race against the terminate.
                RuntimeStatus = ++lookups == 1 ? OrchestrationRuntimeStatus.Running : OrchestrationRuntimeStatus.Completed,
                DataConverter = JsonDataConverter.Default,
                SerializedInput = JsonDataConverter.Default.Serialize(new GenerationJob(
                    new GenerationRequest("raced", "none", "1:1", "grok", null, false, null, null), ["grok"], new JobTimings(30, 2, 10))),
            });
        TerminateAnswers(jobId, refusal);

        var result = await Functions().DeleteJob(new DefaultHttpContext().Request, jobId, _durable.Object, default);

        var deleted = Assert.IsType<JsonHttpResult<Functions.Contracts.Kiapi.KiapiJobDeleted>>(result.Result);
        Assert.False(deleted.Value!.Deleted);
        Assert.True(deleted.Value.WasRunning);
        // Not purged: the engine has still to discard the terminate message, and would write the instance back.
        _durable.Verify(d => d.PurgeInstanceAsync(jobId, It.IsAny<CancellationToken>()), Times.Never);
        _durable.Verify(d => d.PurgeInstanceAsync(jobId, It.IsAny<PurgeInstanceOptions>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(Grpc.Core.StatusCode.NotFound)] // the Durable extension, for an instance that is gone
    public async Task A_job_another_request_deleted_during_the_cancel_is_404_and_its_image_is_not_touched(Grpc.Core.StatusCode? refusal)
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);
        var lookups = 0;
        _durable.Setup(d => d.GetInstanceAsync(jobId, It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync(() =>
            ++lookups == 1 ? Instance(jobId) : null); // completed and purged by another DELETE in between
        TerminateAnswers(jobId, refusal);
        var files = new FileStore(storage.Files);
        var fileId = FileIds.FileIdForJob(jobId);
        await files.SaveAsync(fileId, TestImages.Png(2, 2), "image/png", "x.png", DateTimeOffset.UtcNow, false, null, default);

        var result = await Functions().DeleteJob(new DefaultHttpContext().Request, jobId, _durable.Object, default);

        Assert.Equal(StatusCodes.Status404NotFound, Assert.IsType<JsonHttpResult<Functions.Contracts.Kiapi.KiapiError>>(result.Result).StatusCode);
        Assert.NotNull(await files.GetAsync(fileId, default)); // the job that succeeded keeps its image
    }

    [Fact]
    public async Task A_cancel_the_engine_has_not_applied_within_the_wait_says_nothing_was_deleted_yet()
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);
        _durable.Setup(d => d.GetInstanceAsync(jobId, It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync(Instance(jobId));
        TerminateAnswers(jobId, refusal: null); // another instance holds the job: it stays Running

        var result = await Functions(new HurriedClock()).DeleteJob(new DefaultHttpContext().Request, jobId, _durable.Object, default);

        var deleted = Assert.IsType<JsonHttpResult<Functions.Contracts.Kiapi.KiapiJobDeleted>>(result.Result);
        Assert.Equal((false, true), (deleted.Value!.Deleted, deleted.Value.WasRunning)); // was: deleted true, while a Store could still land
    }

    [Fact]
    public async Task A_cancel_sent_before_the_engine_stopped_answering_says_it_was_sent_not_503()
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);
        var lookups = 0;
        _durable.Setup(d => d.GetInstanceAsync(jobId, It.IsAny<bool>(), It.IsAny<CancellationToken>())).Returns(() => ++lookups == 1
            ? Task.FromResult<OrchestrationMetadata?>(Instance(jobId))
            : Task.FromException<OrchestrationMetadata?>(new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "storage down"))));
        TerminateAnswers(jobId, refusal: null); // the terminate is sent; the wait for it to land then reads nothing

        var result = await Functions().DeleteJob(new DefaultHttpContext().Request, jobId, _durable.Object, default);

        // Was: 503 jobs_unavailable, which says the cancel did not happen, while the engine went on to apply it.
        var deleted = Assert.IsType<JsonHttpResult<Functions.Contracts.Kiapi.KiapiJobDeleted>>(result.Result);
        Assert.Equal((false, true), (deleted.Value!.Deleted, deleted.Value.WasRunning));
    }

    // The overload DurableJobs.TerminateJobAsync calls (with the cancel's reason as the output).
    void TerminateAnswers(string jobId, Grpc.Core.StatusCode? refusal) =>
        _durable.Setup(d => d.TerminateInstanceAsync(jobId, It.IsAny<object?>(), It.IsAny<CancellationToken>()))
            .Returns(refusal is { } status ? Task.FromException(new Grpc.Core.RpcException(new Grpc.Core.Status(status, "refused"))) : Task.CompletedTask);

    /// <summary>A clock that moves 4 s each time it is read, so that the cancel's 15 s wait ends at once.</summary>
    sealed class HurriedClock : TimeProvider
    {
        DateTimeOffset _now = DateTimeOffset.UtcNow;
        public override DateTimeOffset GetUtcNow() => _now += TimeSpan.FromSeconds(4);
    }

    [Fact]
    public async Task Forgetting_a_canceled_job_removes_an_image_its_store_wrote_after_the_cancel()
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);
        _durable.Setup(d => d.GetInstanceAsync(jobId, It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(Instance(jobId, OrchestrationRuntimeStatus.Terminated));
        _durable.Setup(d => d.PurgeInstanceAsync(jobId, It.IsAny<CancellationToken>())).ReturnsAsync(new PurgeResult(1));
        var files = new FileStore(storage.Files);
        var fileId = FileIds.FileIdForJob(jobId); // a Store that landed after the first DELETE's discard
        await files.SaveAsync(fileId, TestImages.Png(2, 2), "image/png", "x.png", DateTimeOffset.UtcNow, false, null, default);

        await Functions().DeleteJob(new DefaultHttpContext().Request, jobId, _durable.Object, default);

        Assert.Null(await files.GetAsync(fileId, default));
    }

    static OrchestrationMetadata Instance(string jobId, OrchestrationRuntimeStatus status = OrchestrationRuntimeStatus.Running) =>
        new(GenerationOrchestrator.Name, jobId)
    {
        RuntimeStatus = status,
        DataConverter = JsonDataConverter.Default,
        SerializedInput = JsonDataConverter.Default.Serialize(new GenerationJob(
            new GenerationRequest("raced", "none", "1:1", "grok", null, false, null, null), ["grok"], new JobTimings(30, 2, 10))),
    };

    JobFunctions Functions(TimeProvider? clock = null)
    {
        var files = new FileStore(storage.Files);
        var history = new ImageHistory(storage.Table(StorageNames.HistoryTable));
        var keeper = new ImageKeeper(files, history, storage.Bootstrap, TimeProvider.System, NullLogger<ImageKeeper>.Instance);
        var keys = new IdempotencyKeys(storage.Table(StorageNames.IdempotencyTable), TimeProvider.System);
        var cancels = new CancelRequests(storage.Table(StorageNames.CancelsTable), storage.Bootstrap, TimeProvider.System);
        return new JobFunctions(new PublicUrls(Options.Create(new ApiOptions())), keeper, new EndedJobs(keeper, keys, cancels,
            new SubmitClaims(storage.Table(StorageNames.SubmitsTable), storage.Bootstrap, TimeProvider.System), NullLogger<EndedJobs>.Instance), cancels,
            new ListPositions(storage.Table(StorageNames.SettingsTable), storage.Bootstrap), clock ?? TimeProvider.System,
            NullLogger<JobFunctions>.Instance);
    }
}

/// <summary>A request waiting on its job tells a job deleted meanwhile from one still running.</summary>
public sealed class WaitForJobTests
{
    [Fact]
    public async Task A_job_deleted_during_the_wait_is_reported_deleted_not_as_a_timeout()
    {
        var durable = new Mock<DurableTaskClient>("test");
        durable.Setup(d => d.GetInstanceAsync("job_0abc", It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync((OrchestrationMetadata?)null);

        var (job, deleted) = await durable.Object.WaitForJobAsync("job_0abc", DurableJobsTests.NoCancels, TimeSpan.FromSeconds(5), TimeProvider.System, default);

        Assert.Null(job);
        Assert.True(deleted);
    }
}

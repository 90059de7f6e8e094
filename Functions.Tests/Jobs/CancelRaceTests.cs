using System.Text.Json;
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
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>A job that ends on its own while its cancel is on the way stays as it ended, and the answer says nothing was deleted.</summary>
public sealed class CancelRaceTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    readonly Mock<DurableTaskClient> _durable = new("test");

    [Fact]
    public async Task A_job_that_ended_before_its_cancel_took_effect_is_not_deleted_nor_shown_canceled()
    {
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);
        var lookups = 0;
        _durable.Setup(d => d.GetInstanceAsync(jobId, It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync(() =>
            new OrchestrationMetadata(GenerationOrchestrator.Name, jobId)
            {
                // Running when the DELETE looks, then completed: the Store won the race against the terminate.
                RuntimeStatus = ++lookups == 1 ? OrchestrationRuntimeStatus.Running : OrchestrationRuntimeStatus.Completed,
            });
        _durable.Setup(d => d.TerminateInstanceAsync(jobId, It.IsAny<TerminateInstanceOptions>(), It.IsAny<CancellationToken>()))
            .Returns(Task.CompletedTask);

        var result = await Functions().CancelJob(new DefaultHttpContext().Request, jobId, _durable.Object, default);

        var deleted = Assert.IsType<JsonHttpResult<Functions.Contracts.Kiapi.KiapiJobDeleted>>(result.Result);
        Assert.False(deleted.Value!.Deleted);
        Assert.True(deleted.Value.WasRunning);
        // Not purged: the engine has still to discard the terminate message, and would write the instance back.
        _durable.Verify(d => d.PurgeInstanceAsync(jobId, It.IsAny<CancellationToken>()), Times.Never);
    }

    JobFunctions Functions()
    {
        var files = new FileStore(storage.Files);
        var history = new ImageHistory(storage.Table(StorageNames.HistoryTable));
        var keeper = new ImageKeeper(files, history, storage.Bootstrap, TimeProvider.System, NullLogger<ImageKeeper>.Instance);
        return new JobFunctions(new PublicUrls(Options.Create(new ApiOptions())), keeper, TimeProvider.System, NullLogger<JobFunctions>.Instance);
    }
}

using Functions.Generation;
using Functions.History;
using Functions.Jobs;
using Functions.Tests.Fakes;
using Grpc.Core;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>
/// A Submit whose synchronous provider's image is stored just as the job engine stops answering: the step keeps the
/// image (a failed step would run again and pay the upstream twice), unless the job's cancel record says it was canceled.
/// </summary>
public sealed class EngineOutageAfterStoreTests(ProviderFixture app) : IClassFixture<ProviderFixture>
{
    const string Generations = "/v1/images/generations";

    [Theory]
    [InlineData(false, StatusCode.Unavailable)] // the local host's sidecar, storage away
    [InlineData(true, StatusCode.Unavailable)]
    [InlineData(false, StatusCode.Unknown)] // the Durable extension's answer to an error of its own
    [InlineData(true, StatusCode.Internal)]
    public async Task A_submit_that_stored_its_image_as_the_engine_went_down_keeps_it_unless_its_cancel_is_recorded(bool canceled, StatusCode failure)
    {
        app.ClearFaults();
        var jobId = JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        var cancels = app.Service<CancelRequests>();
        var reads = 0;
        var durable = new Mock<DurableTaskClient>("seam") { CallBase = true };
        durable.Setup(c => c.GetInstanceAsync(jobId, true, It.IsAny<CancellationToken>())).Returns(async () =>
        {
            // The first read is before the upstream call, the second once the image is stored.
            if (Interlocked.Increment(ref reads) == 1)
                return new OrchestrationMetadata(GenerationOrchestrator.Name, jobId) { RuntimeStatus = OrchestrationRuntimeStatus.Running };
            if (canceled) await cancels.RecordAsync(jobId, CancellationToken.None); // a DELETE's record, written meanwhile
            throw new RpcException(new Status(failure, "the job engine is not reachable"));
        });
        var submitsBefore = app.OpenAi.CountOf(Generations);
        var call = new UpstreamCall(jobId, new GenerationRequest("stored as the engine went down", "none", "1:1", "gpt-image-1", null, false, null, null),
            0, "gpt-image-1");
        var activities = ActivatorUtilities.CreateInstance<GenerationActivities>(app.App.Services);
        try
        {
            var step = await activities.SubmitGeneration(call, durable.Object);

            Assert.NotNull(step.Stored);
            Assert.Equal(2, reads);
            Assert.Equal(1, app.OpenAi.CountOf(Generations) - submitsBefore);
            var kept = await app.Service<ImageHistory>().FindByKeyAsync(jobId, CancellationToken.None);
            Assert.Equal(!canceled, kept is not null);
        }
        finally
        {
            await cancels.ForgetAsync(jobId, CancellationToken.None);
            await app.Service<ImageKeeper>().DiscardAsync(jobId, CancellationToken.None);
        }
    }
}

using Azure.Data.Tables;
using Functions.History;
using Functions.Storage;

namespace Functions.Tests.Jobs;

/// <summary>The offline renderer as a job's model: it bills nothing, so a Submit run again renders again.</summary>
public sealed class OfflineSubmitTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_submit_whose_first_run_was_cut_off_renders_again_and_the_job_keeps_one_image()
    {
        await app.Service<StorageBootstrap>().EnsureCreatedAsync(CancellationToken.None);
        var call = SubmitClaimsTests.Call("offline, its first run died");
        await SubmitClaimsTests.LeaveAStaleClaimAsync(app.Service<TableServiceClient>(), call.JobId);

        var step = await SubmitClaimsTests.SubmitAsync(app.App.Services, call);
        var again = await SubmitClaimsTests.SubmitAsync(app.App.Services, call); // Durable runs a step at least once

        Assert.Null(step.Failure);
        Assert.NotNull(step.Stored);
        Assert.Equal(step.Stored.ImageId, again.Stored?.ImageId);
        Assert.Equal(step.Stored.ImageId, (await app.Service<ImageHistory>().FindByKeyAsync(call.JobId, CancellationToken.None))?.Id);
        Assert.StartsWith("offline://", step.Stored.ApiDebug.RequestUrl);
    }
}

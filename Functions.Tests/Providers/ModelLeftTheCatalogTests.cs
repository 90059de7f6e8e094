using Functions.Generation;
using Functions.Jobs;
using Functions.Tests.Fakes;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Moq;

namespace Functions.Tests.Providers;

/// <summary>A job outlives the settings it was planned with: a restart may take its requested model out of the catalog.</summary>
public sealed class ModelLeftTheCatalogTests(ProviderFixture app) : IClassFixture<ProviderFixture>
{
    [Fact]
    public async Task The_fallback_of_a_requested_model_taken_out_of_the_catalog_still_runs_and_the_model_itself_says_why_it_ended()
    {
        // Today's catalog, as after a restart with grok removed (meta, its fallback, kept).
        var shipped = ShippedCatalog.Load();
        var models = shipped.Names.Where(name => name != "grok").ToDictionary(name => name, name => shipped.Find(name)!);
        models["meta"].Fallbacks = [];
        var catalog = new ModelCatalog(Options.Create(models));
        var providers = ActivatorUtilities.CreateInstance<ProviderSelector>(app.App.Services, catalog);
        var activities = ActivatorUtilities.CreateInstance<GenerationActivities>(app.App.Services, catalog, providers);
        var jobId = JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        var durable = new Mock<DurableTaskClient>("seam") { CallBase = true };
        durable.Setup(c => c.GetInstanceAsync(jobId, true, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new OrchestrationMetadata(GenerationOrchestrator.Name, jobId) { RuntimeStatus = OrchestrationRuntimeStatus.Running });
        var request = new GenerationRequest("planned with grok", "realistic", "1:1", "grok", null, false, null, null);

        var grok = await activities.CheckGeneration(new UpstreamCall(jobId, request, 0, "grok", TaskId: "task-planned-before"), durable.Object);
        var meta = await activities.SubmitGeneration(new UpstreamCall(jobId, request, 1, "meta"), durable.Object);

        Assert.Equal((GenerationErrors.ProviderUnavailable, true), (grok.Failure?.Code, grok.Failure?.Retryable));
        Assert.Contains("grok was taken out of the model catalog", grok.Failure!.Message);
        Assert.Null(meta.Failure); // was: "The token for meta was removed while the job ran."
        Assert.NotNull(meta.TaskId);
    }
}

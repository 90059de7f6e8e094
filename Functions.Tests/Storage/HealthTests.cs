using System.Diagnostics;
using Functions.Contracts.Kiapi;
using Functions.Health;
using Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Testing;
using Moq;

namespace Functions.Tests.Storage;

/// <summary>kiapi's health when the job engine fails but storage answers: degraded, storage reported as it is, and the log says why.</summary>
public sealed class HealthTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task A_failing_job_engine_is_503_degraded_with_storage_still_ok()
    {
        var (answer, log, response) = await HealthWithEngineAsync(_ => throw new InvalidOperationException("engine down"));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, answer.StatusCode);
        Assert.Equal(("degraded", "ok"), (answer.Value!.Status, answer.Value.Storage));
        Assert.Equal("5", response.Headers.RetryAfter);
        Assert.Equal("Health: the job engine did not answer: engine down", log.LatestRecord.Message);
    }

    [Fact]
    public async Task A_job_engine_that_never_answers_is_503_degraded_and_logged_as_no_answer_in_time()
    {
        var (answer, log, _) = await HealthWithEngineAsync(async cancellationToken =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new UnreachableException();
        });

        Assert.Equal(("degraded", "ok"), (answer.Value!.Status, answer.Value.Storage));
        Assert.Equal("Health: the job engine did not answer: no answer within 3 s", log.LatestRecord.Message);
    }

    async Task<(JsonHttpResult<KiapiHealth> Answer, FakeLogCollector Log, HttpResponse Response)> HealthWithEngineAsync(
        Func<CancellationToken, Task<Page<OrchestrationMetadata>>> firstPage)
    {
        await storage.Bootstrap.EnsureCreatedAsync(default);
        var durable = new Mock<DurableTaskClient>("test");
        durable.Setup(d => d.GetAllInstancesAsync(It.IsAny<OrchestrationQuery>()))
            .Returns(Pageable.Create((string? _, CancellationToken cancellationToken) => firstPage(cancellationToken)));
        var logger = new FakeLogger<HealthFunctions>();
        var health = new HealthFunctions(new StorageProbe(storage.Table(StorageNames.SettingsTable), storage.Bootstrap), logger);

        var context = new DefaultHttpContext();
        return (await health.Health(context.Request, durable.Object, default), logger.Collector, context.Response);
    }
}

using Functions.Health;
using Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace Functions.Tests.Storage;

/// <summary>kiapi's health when the job engine fails but storage answers: degraded, and storage reported as it is.</summary>
public sealed class HealthTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task A_failing_job_engine_is_503_degraded_with_storage_still_ok()
    {
        await storage.Bootstrap.EnsureCreatedAsync(default);
        var durable = new Mock<DurableTaskClient>("test");
        durable.Setup(d => d.GetAllInstancesAsync(It.IsAny<OrchestrationQuery>())).Throws(new InvalidOperationException("engine down"));
        var health = new HealthFunctions(new StorageProbe(storage.Table(StorageNames.SettingsTable), storage.Bootstrap),
            NullLogger<HealthFunctions>.Instance);

        var answer = await health.Health(new DefaultHttpContext().Request, durable.Object, default);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, answer.StatusCode);
        Assert.Equal(("degraded", "ok"), (answer.Value!.Status, answer.Value.Storage));
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues.Models;
using Functions.Generation;
using Functions.Storage;
using Functions.Tests.Api;
using Functions.Tests.Infrastructure;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>A provider that always throws something unexpected, and few deliveries allowed.</summary>
public sealed class AlwaysThrowingFixture : SeamProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Generation:SyncWaitSeconds"] = "0",
        ["Worker:MaxDequeueCount"] = "2",
    };

    public AlwaysThrowingFixture() =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("the seam always breaks"));
}

public sealed class PoisonTests(AlwaysThrowingFixture app) : IClassFixture<AlwaysThrowingFixture>
{
    [Fact]
    public async Task A_message_that_keeps_failing_fails_its_job_with_the_reason_and_goes_to_the_poison_queue()
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "always breaks" });
        var jobId = accepted.Headers.Location!.AbsolutePath.Split('/')[^1];

        var job = await JobsApiTests.PollAsync(app.Client, accepted.Headers.Location.AbsolutePath, seconds: 40);

        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains("gave up after 2 attempts", job.GetProperty("error").GetString());
        Assert.Contains("the seam always breaks", job.GetProperty("error").GetString());
        app.Provider.Verify(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
        // The job fails first; its message moves to the poison queue right after.
        QueueMessage[] poison = [];
        await Eventually.HoldsAsync(async () =>
            (poison = (await app.Queue(StorageNames.JobsPoisonQueue).ReceiveMessagesAsync(32, TimeSpan.FromSeconds(1))).Value).Length > 0);
        Assert.Equal([jobId], poison.Select(m => m.MessageText));
        await Eventually.HoldsAsync(async () => (await app.Queue(StorageNames.JobsQueue).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0);
    }
}

/// <summary>No worker, a two-second job deadline and a sweep every second.</summary>
public sealed class ShortDeadlineFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Worker:ListenerEnabled"] = "false",
        ["Worker:JobDeadlineSeconds"] = "2",
        ["Worker:SweepIntervalSeconds"] = "1",
    };
}

public sealed class DeadlineTests(ShortDeadlineFixture app) : IClassFixture<ShortDeadlineFixture>
{
    [Fact]
    public async Task A_job_nobody_runs_is_failed_by_the_sweep_once_past_its_deadline()
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "nobody runs me" });

        var job = await JobsApiTests.PollAsync(app.Client, accepted.Headers.Location!.AbsolutePath, seconds: 15);

        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains("Worker:JobDeadlineSeconds", job.GetProperty("error").GetString());
        var running = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=queued");
        Assert.Empty(running.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task A_sync_request_whose_job_passes_its_deadline_answers_504_deadline_exceeded()
    {
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "waits past the deadline" });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(GenerationErrors.DeadlineExceeded, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Functions.Files;
using Functions.Tests.Api;
using Functions.Tests.Providers;
using Functions.Tests.Infrastructure;

namespace Functions.Tests.Jobs;

/// <summary>No worker: jobs stay queued until the test acts on them.</summary>
public sealed class StoppedWorkerFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Worker:ListenerEnabled"] = "false" };
}

public sealed class CancelQueuedTests(StoppedWorkerFixture app) : IClassFixture<StoppedWorkerFixture>
{
    [Fact]
    public async Task A_queued_job_is_canceled_stays_readable_as_canceled_and_a_second_delete_forgets_it()
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "never runs" });
        var path = accepted.Headers.Location!.AbsolutePath;

        var response = await app.Client.DeleteAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("deleted").GetBoolean());
        Assert.False(body.GetProperty("was_running").GetBoolean());
        var job = await app.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal("canceled", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Number, job.GetProperty("finished_at").ValueKind);
        var canceled = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=canceled");
        Assert.Contains(canceled.GetProperty("data").EnumerateArray(), j => path.EndsWith(j.GetProperty("id").GetString()!));

        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task A_request_waiting_on_its_job_answers_409_job_canceled_when_the_job_is_canceled()
    {
        var waiting = app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "waiting, then canceled" });
        string? jobId = null;
        for (var i = 0; i < 100 && jobId is null; i++, await Task.Delay(50))
        {
            var queued = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=queued&limit=100");
            jobId = queued.GetProperty("data").EnumerateArray()
                .Where(j => j.GetProperty("params").GetProperty("prompt").GetString() == "waiting, then canceled")
                .Select(j => j.GetProperty("id").GetString()).FirstOrDefault();
        }
        Assert.NotNull(jobId);

        await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}");

        var response = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("job_canceled", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }
}

public sealed class CancelRunningTests(GatedProviderFixture app) : IClassFixture<GatedProviderFixture>
{
    [Fact]
    public async Task A_job_canceled_while_its_provider_works_keeps_nothing_of_what_it_made()
    {
        app.Reset();
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled mid-flight" });
        var path = accepted.Headers.Location!.AbsolutePath;
        var jobId = path.Split('/')[^1];
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var response = await app.Client.DeleteAsync(path);
        app.Gate.SetResult();

        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("was_running").GetBoolean());
        var fileId = FileIds.FileIdForJob(jobId);
        // The worker stored the image, found the job canceled at its last step, and removed what it stored.
        await Eventually.HoldsAsync(async () => (await app.Client.GetAsync($"/api/v1/files/{fileId}")).StatusCode == HttpStatusCode.NotFound);
        await Task.Delay(500);
        var job = await app.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal("canceled", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("result").ValueKind);
        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100");
        Assert.Equal(0, history.GetProperty("total").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/files/{fileId}")).StatusCode);
    }
}

public sealed class CancelWaitingUpstreamTests(RestartFixture app) : IClassFixture<RestartFixture>
{
    [Fact]
    public async Task A_job_canceled_while_the_upstream_works_stops_at_its_next_check_and_stores_nothing()
    {
        app.Geminigen.Hold = true;
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled upstream", model = "imagen-4" });
        var path = accepted.Headers.Location!.AbsolutePath;
        await Eventually.HoldsAsync(async () =>
            (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("progress_label").GetString() == "generating");

        var response = await app.Client.DeleteAsync(path);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("was_running").GetBoolean());
        var checksAtCancel = app.Geminigen.CountOf("/uapi/v1/history");
        app.Geminigen.Hold = false;
        await Task.Delay(1500); // many check intervals

        // At most the one check that read the job just before the cancel; its checkpoint write then failed.
        Assert.InRange(app.Geminigen.CountOf("/uapi/v1/history"), checksAtCancel, checksAtCancel + 1);
        Assert.Equal(1, app.Geminigen.Submits);
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        Assert.Equal(0, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
    }
}

using Functions.Files;
using Functions.Tests.Api;
using Functions.Tests.Providers;

namespace Functions.Tests.Jobs;

/// <summary>The gated provider, and requests that wait for their jobs.</summary>
public sealed class GatedWaitingFixture : GatedProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:SyncWaitSeconds"] = "20" };
}

public sealed class CancelWaitedTests(GatedWaitingFixture app) : IClassFixture<GatedWaitingFixture>
{
    [Fact]
    public async Task A_request_waiting_on_its_job_answers_409_job_canceled_when_the_job_is_canceled()
    {
        app.Reset();
        // An Idempotency-Key makes the generation a job that the request waits for.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
            { Content = JsonContent.Create(new { prompt = "waiting, then canceled" }) };
        request.Headers.Add("Idempotency-Key", "wait-then-cancel");
        var waiting = app.Client.SendAsync(request);
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the first job of a fresh app
        // The engine records the instance as running just after it hands out the first step.
        string? jobId = null;
        await Eventually.HoldsAsync(async () =>
        {
            var running = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=running&limit=100");
            jobId = running.GetProperty("data").EnumerateArray()
                .Where(j => j.GetProperty("params").GetProperty("prompt").GetString() == "waiting, then canceled")
                .Select(j => j.GetProperty("id").GetString()).SingleOrDefault();
            return jobId is not null;
        });

        await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}");
        app.Gate.SetResult();

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
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the first job of a fresh app
        // The engine records the instance as running just after it hands out the first step.
        await Eventually.HoldsAsync(async () => (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString() == "running");

        var response = await app.Client.DeleteAsync(path);
        app.Gate.SetResult();

        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("was_running").GetBoolean());
        var fileId = FileIds.FileIdForJob(jobId);
        // The worker stored the image, found the job canceled at its last step, and removed what it stored.
        await Eventually.HoldsAsync(() => Task.FromResult(app.Logs.Any(line => line.Contains($"Job {jobId} ended without its image"))));
        var job = await app.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal("canceled", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("result").ValueKind);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind); // "Error message when status is failed; otherwise null"
        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100");
        Assert.Equal(0, history.GetProperty("total").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/files/{fileId}")).StatusCode);
        var canceled = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=canceled");
        Assert.Contains(canceled.GetProperty("data").EnumerateArray(), j => j.GetProperty("id").GetString() == jobId);

        // A second DELETE forgets the ended job.
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(path)).StatusCode);
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

        // At most the one check that was running when the orchestration was stopped.
        Assert.InRange(app.Geminigen.CountOf("/uapi/v1/history"), checksAtCancel, checksAtCancel + 1);
        Assert.Equal(1, app.Geminigen.Submits);
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        Assert.Equal(0, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
    }
}

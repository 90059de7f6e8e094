using Functions.Files;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>Answers 202 at once, and lets an interrupted job's message come back soon.</summary>
public sealed class RestartFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Generation:SyncWaitSeconds", "0"), ("DurableTask:VisibilityTimeoutSeconds", "5"), ("Upstream:DeadlineSeconds", "120"));
}

public sealed class RestartTests(RestartFixture app) : IClassFixture<RestartFixture>
{
    [Fact]
    public async Task A_job_stopped_right_after_its_submit_resumes_on_restart_with_one_submit_one_row_and_one_blob()
    {
        app.Geminigen.Hold = true;
        var accepted = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "survives a restart", model = "imagen-4" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var jobUrl = accepted.Headers.Location!.PathAndQuery;
        var jobId = jobUrl.Split('/')[^1];

        // Wait until the upstream has the task and the orchestration has recorded it, then stop the app mid-job.
        await Eventually.HoldsAsync(async () =>
            (await app.Client.GetFromJsonAsync<JsonElement>(jobUrl)).GetProperty("progress_label").GetString() == "generating");
        Assert.Equal(1, app.Geminigen.Submits);
        await app.RestartAppAsync();
        app.Geminigen.Hold = false;

        JsonElement job = default;
        await Eventually.HoldsAsync(async () =>
        {
            job = await app.Client.GetFromJsonAsync<JsonElement>(jobUrl);
            return job.GetProperty("status").GetString() is "succeeded" or "failed";
        }, TimeSpan.FromSeconds(40));

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(1, app.Geminigen.Submits);
        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100");
        Assert.Equal(1, history.GetProperty("total").GetInt64());
        Assert.NotNull(await app.Service<FileStore>().GetAsync(FileIds.FileIdForJob(jobId), default));
    }
}

namespace Functions.Tests.Api;

public sealed class NoSyncWaitFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:SyncWaitSeconds"] = "0" };
}

public sealed class AsyncJobTests(NoSyncWaitFixture app) : IClassFixture<NoSyncWaitFixture>
{
    [Fact]
    public async Task Job_outliving_the_wait_bound_answers_202_and_polls_to_success()
    {
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "slow one", style = "anime", aspectRatio = "16:9" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var location = response.Headers.Location!;
        Assert.Matches("^/api/v1/jobs/job_[0-9a-f]+$", location.AbsolutePath);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        // Read once the job is scheduled: on a loaded machine the engine may have started it already.
        Assert.Contains(accepted.GetProperty("status").GetString(), new[] { "queued", "running" });
        Assert.Equal(location.AbsolutePath.Split('/')[^1], accepted.GetProperty("id").GetString());

        var job = await JobsApiTests.PollAsync(app.Client, location.AbsolutePath);

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        Assert.Equal("done", job.GetProperty("progress_label").GetString());
        Assert.True(job.GetProperty("finished_at").GetDouble() >= job.GetProperty("started_at").GetDouble());
        Assert.True(job.GetProperty("started_at").GetDouble() >= job.GetProperty("created_at").GetDouble());
        Assert.Equal(accepted.GetProperty("created_at").GetDouble(), job.GetProperty("created_at").GetDouble()); // one clock for both answers
        Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind);
        Assert.Equal("slow one", job.GetProperty("params").GetProperty("prompt").GetString());
        var fileId = job.GetProperty("artifacts")[0].GetString()!;
        Assert.Equal(fileId, job.GetProperty("result").GetProperty("file_id").GetString());
        var bytes = await app.Client.GetByteArrayAsync($"/api/v1/files/{fileId}/download");
        PngChecker.Check(bytes);
        Assert.Equal(bytes.Length, job.GetProperty("result").GetProperty("image_bytes").GetInt64());
        var result = job.GetProperty("result");
        Assert.Equal((1024, 576, "image/png"), // 16:9, as the file's codec read it
            (result.GetProperty("width").GetInt32(), result.GetProperty("height").GetInt32(), result.GetProperty("content_type").GetString()));

        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history");
        var record = Assert.Single(history.GetProperty("images").EnumerateArray(),
            i => i.GetProperty("id").GetInt64() == job.GetProperty("result").GetProperty("image_id").GetInt64());
        Assert.Equal(job.GetProperty("result").GetProperty("image_url").GetString(), record.GetProperty("imageUrl").GetString()); // its file's, not its job's
    }

    [Fact]
    public async Task Prefer_wait_longer_than_the_sync_bound_does_not_lengthen_the_wait()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(new { prompt = "wait longer?" }) };
        request.Headers.Add("Prefer", "wait=30");

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode); // the sync bound here is 0 s: a job at once, not 30 s inline
        await JobsApiTests.PollAsync(app.Client, response.Headers.Location!.AbsolutePath);
    }
}

namespace Functions.Tests.Api;

/// <summary>An app of its own: this test deletes its task hub under it.</summary>
public sealed class LostTaskHubFixture : AppFixture;

/// <summary>The job engine's task hub lost from storage under a running app (an emulator restarted empty) is made again.</summary>
public sealed class LostTaskHubTests(LostTaskHubFixture app) : IClassFixture<LostTaskHubFixture>
{
    const string Hub = "imagejobs"; // host.json's hubName, as its tables, queues and containers begin

    [Fact]
    public async Task Jobs_run_again_after_the_task_hub_was_lost_without_a_restart()
    {
        var before = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "a job before the loss" });
        Assert.Equal("succeeded", (await JobsApiTests.PollAsync(app.Client, before.Headers.Location!.AbsolutePath)).GetProperty("status").GetString());
        await LoseTheTaskHubAsync();

        var lost = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "the job that finds the loss" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lost.StatusCode);
        Assert.Equal("jobs_unavailable", (await lost.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.NotNull(lost.Headers.RetryAfter); // coming back helps: the hub is being made again

        HttpResponseMessage accepted = null!;
        await Eventually.HoldsAsync(async () =>
            (accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "a job after the loss" })).StatusCode == HttpStatusCode.Accepted);
        var job = await JobsApiTests.PollAsync(app.Client, accepted.Headers.Location!.AbsolutePath);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
    }

    Task LoseTheTaskHubAsync() => new EmulatorStorage(app.Azurite.ConnectionString).DeleteAllAsync(prefix: Hub);
}

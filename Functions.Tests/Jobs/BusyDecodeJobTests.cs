using Functions.Tests.Api;
using Functions.Tests.Fakes;
using Functions.Tests.Providers;

namespace Functions.Tests.Jobs;

/// <summary>The provider fakes, a one-second wait for the decode budget, and a deadline with room for a step run twice.</summary>
public sealed class BusyDecodeProviderFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Generation:DecodeWaitSeconds", "1"), ("Upstream:DeadlineSeconds", "60"));
}

public sealed class BusyDecodeJobTests(BusyDecodeProviderFixture app) : IClassFixture<BusyDecodeProviderFixture>
{
    [Theory]
    [InlineData("gpt-image-1", "/v1/images/generations")] // the image comes with the submit (Base64): the submit runs again
    [InlineData("grok", FaultTests.Grok)]                 // the image is fetched by the Store step: only that runs again
    public async Task A_job_whose_upstream_image_meets_a_busy_decode_budget_runs_its_step_again_until_it_fits_and_succeeds(string model, string submitPath)
    {
        app.ClearFaults();
        FakeUpstream upstream = model == "grok" ? app.Geminigen : app.OpenAi;
        var (submitsBefore, metaBefore) = (upstream.CountOf(submitPath), app.Geminigen.CountOf(FaultTests.Meta));
        var busyBefore = BusyLines();
        string jobPath;
        using (await ImageCheckTests.TakeWholeBudgetAsync(app))
        {
            var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = $"{model} while the budget is taken", model });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            jobPath = accepted.Headers.Location!.AbsolutePath;
            // Twice: a step runs again for as long as the budget stays taken, not only once.
            await Eventually.HoldsAsync(() => Task.FromResult(BusyLines() >= busyBefore + 2), TimeSpan.FromSeconds(30));
            var running = await app.Client.GetFromJsonAsync<JsonElement>(jobPath);
            Assert.Equal("running", running.GetProperty("status").GetString());
        }

        var job = await JobsApiTests.PollAsync(app.Client, jobPath, seconds: 60);

        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.StartsWith("file_", job.GetProperty("result").GetProperty("file_id").GetString());
        var submits = upstream.CountOf(submitPath) - submitsBefore;
        Assert.True(model == "grok" ? submits == 1 : submits >= 2, $"{submits} submits");
        if (model == "grok") Assert.Equal(metaBefore, app.Geminigen.CountOf(FaultTests.Meta)); // no fallback either
    }

    int BusyLines() => app.Logs.Count(line => line.Contains("met a busy decode budget"));
}

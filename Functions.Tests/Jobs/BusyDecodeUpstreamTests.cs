using Functions.Tests.Api;
using Functions.Tests.Fakes;
using Functions.Tests.Providers;

namespace Functions.Tests.Jobs;

/// <summary>The provider fakes, a one-second bounded wait for the decode budget, and a deadline with room for a longer wait.</summary>
public sealed class BusyDecodeProviderFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Generation:DecodeWaitSeconds", "1"), ("Upstream:DeadlineSeconds", "60"));
}

/// <summary>
/// An upstream's image is paid for: while the decode budget is taken its check waits past the bounded wait (which a
/// client's own image gets, then 503), and nothing is asked of the upstream again.
/// </summary>
public sealed class BusyDecodeUpstreamTests(BusyDecodeProviderFixture app) : IClassFixture<BusyDecodeProviderFixture>
{
    static readonly TimeSpan Held = TimeSpan.FromSeconds(3); // three bounded waits

    // The upstream's image has reached the budget and waits there: the hold that follows is what it must outlast.
    Task QueuedOnTheBudgetAsync() => Eventually.HoldsAsync(() => Task.FromResult(app.Service<Functions.Generation.DecodeBudget>().Waiting > 0));

    [Theory]
    [InlineData("gpt-image-1", "/v1/images/generations")] // the image comes with the submit (Base64)
    [InlineData("grok", FaultTests.Grok)]                 // the image is fetched by the Store step
    public async Task A_job_whose_upstream_image_meets_a_busy_decode_budget_waits_for_it_and_succeeds_with_one_submit(string model, string submitPath)
    {
        app.ClearFaults();
        FakeUpstream upstream = model == "grok" ? app.Geminigen : app.OpenAi;
        var (submitsBefore, metaBefore, servedBefore) = (upstream.CountOf(submitPath), app.Geminigen.CountOf(FaultTests.Meta), app.Geminigen.ImagesServed);
        string jobPath;
        using (await ImageCheckTests.TakeWholeBudgetAsync(app))
        {
            var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = $"{model} while the budget is taken", model });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            jobPath = accepted.Headers.Location!.AbsolutePath;
            await QueuedOnTheBudgetAsync();
            await Task.Delay(Held);
            var waiting = await app.Client.GetFromJsonAsync<JsonElement>(jobPath);
            Assert.Contains(waiting.GetProperty("status").GetString(), new[] { "queued", "running" });
        }

        var job = await JobsApiTests.PollAsync(app.Client, jobPath, seconds: 60);

        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.StartsWith("file_", job.GetProperty("result").GetProperty("file_id").GetString());
        Assert.Equal(1, upstream.CountOf(submitPath) - submitsBefore);
        if (model == "grok")
        {
            Assert.Equal(1, app.Geminigen.ImagesServed - servedBefore); // the Store did not run again either
            Assert.Equal(metaBefore, app.Geminigen.CountOf(FaultTests.Meta)); // no fallback
        }
    }

    [Fact]
    public async Task An_inline_generation_whose_upstream_image_meets_a_busy_decode_budget_waits_for_it_and_answers_200()
    {
        app.ClearFaults();
        var submitsBefore = app.OpenAi.CountOf("/v1/images/generations");
        Task<HttpResponseMessage> generate;
        using (await ImageCheckTests.TakeWholeBudgetAsync(app))
        {
            generate = app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "inline while the budget is taken", model = "gpt-image-1" });
            await QueuedOnTheBudgetAsync();
            await Task.Delay(Held);
            Assert.False(generate.IsCompleted);
        }

        var response = await generate.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(1, app.OpenAi.CountOf("/v1/images/generations") - submitsBefore);
    }
}

using Functions.Generation;
using Functions.Tests.Api;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>
/// An asynchronous provider that throws something unexpected (not a generation failure): at the submit for one prompt,
/// at every check for the others.
/// </summary>
public sealed class AlwaysThrowingFixture : SeamProviderFixture
{
    public const string BreaksAtSubmit = "breaks at its submit";

    protected override bool KeepsLogs => true;

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Generation:SyncWaitSeconds"] = "0",
        ["Upstream:PollMinSeconds"] = "0.1",
        ["Upstream:PollMaxSeconds"] = "0.1",
    };

    public AlwaysThrowingFixture()
    {
        Provider.Setup(p => p.Asynchronous).Returns(true);
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .Returns((ProviderCall call, CancellationToken _) => call.Input.Request.Prompt == BreaksAtSubmit
                ? throw new InvalidOperationException("the seam always breaks")
                : Task.FromResult(ProviderStep.Pending("task-1", 0, null)));
        Provider.Setup(p => p.CheckAsync(It.IsAny<ProviderCall>(), "task-1", It.IsAny<CancellationToken>()))
            .ThrowsAsync(new InvalidOperationException("the seam always breaks"));
    }
}

public sealed class ActivityFailureTests(AlwaysThrowingFixture app) : IClassFixture<AlwaysThrowingFixture>
{
    [Fact]
    public async Task An_activity_that_keeps_throwing_is_retried_then_fails_its_job_with_the_reason()
    {
        var job = await JobFailures.SubmitToFailureAsync(app.Client, "breaks at its checks", "gave up after 4 attempts at CheckGeneration", seconds: 40);

        // What broke is logged, never shown: it may be a storage service's own text.
        Assert.DoesNotContain("the seam always breaks", job.GetProperty("error").GetString());
        Assert.Contains(app.Logs, line => line.StartsWith("Error ") && line.Contains($"Job {job.GetProperty("id").GetString()}: CheckGeneration failed 4 times")
            && line.Contains("System.InvalidOperationException: the seam always breaks"));
        app.Provider.Verify(p => p.CheckAsync(It.IsAny<ProviderCall>(), "task-1", It.IsAny<CancellationToken>()), Times.Exactly(4));
        var queued = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=queued");
        Assert.Empty(queued.GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task A_submit_that_throws_once_its_call_may_have_been_sent_is_not_sent_again()
    {
        // The engine runs the activity again; the call may have reached the upstream (a billed task), so that run sends nothing.
        var job = await JobFailures.SubmitToFailureAsync(app.Client, AlwaysThrowingFixture.BreaksAtSubmit, "not sent again", seconds: 40);

        Assert.DoesNotContain("the seam always breaks", job.GetProperty("error").GetString());
        // The advice to send it again comes once the job ends with it (a fallback's log line, where the job goes on, has none).
        Assert.EndsWith("so it is not sent again. Send the request again (with a new Idempotency-Key, or DELETE this job first).",
            job.GetProperty("error").GetString());
        app.Provider.Verify(p => p.SubmitAsync(It.Is<ProviderCall>(c => c.Input.Request.Prompt == AlwaysThrowingFixture.BreaksAtSubmit),
            It.IsAny<CancellationToken>()), Times.Once());
        // Its run again answers "interrupted" without the cause: the first run's line says what broke.
        Assert.Contains(app.Logs, line => line.StartsWith("Error ") && line.Contains($"Job {job.GetProperty("id").GetString()}'s submit to")
            && line.Contains("failed in the service") && line.Contains("System.InvalidOperationException: the seam always breaks"));
    }
}

/// <summary>An asynchronous provider whose task never finishes, and a five-second deadline (room for several checks on a busy machine).</summary>
public sealed class NeverFinishingFixture : SeamProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Upstream:DeadlineSeconds"] = "5",
        ["Upstream:PollMinSeconds"] = "0.2",
        ["Upstream:PollMaxSeconds"] = "0.2",
    };

    public NeverFinishingFixture()
    {
        Provider.Setup(p => p.Asynchronous).Returns(true);
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(ProviderStep.Pending("task-1", 0.1, null));
        Provider.Setup(p => p.CheckAsync(It.IsAny<ProviderCall>(), "task-1", It.IsAny<CancellationToken>()))
            .ReturnsAsync(ProviderStep.Pending("task-1", -1, null)); // each check fails (the provider's "still running, no progress known")
    }
}

public sealed class DeadlineTests(NeverFinishingFixture app) : IClassFixture<NeverFinishingFixture>
{
    [Fact]
    public async Task A_202_after_the_wait_shows_the_job_as_it_is_then()
    {
        var response = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
        {
            Content = JsonContent.Create(new { prompt = "still generating after three seconds" }),
            Headers = { { "Prefer", "wait=3" } }, // time for a busy machine to start the job; its 5 s deadline is further
        });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("running", job.GetProperty("status").GetString()); // not the "queued" of the moment it was scheduled
        Assert.Equal(JsonValueKind.Number, job.GetProperty("started_at").ValueKind);
        // Checked several times by now, each check failing: a progress from 0 to 1, never the provider's -1.
        Assert.InRange(job.GetProperty("progress").GetDouble(), 0, 1);
    }

    [Fact]
    public async Task A_job_whose_task_never_finishes_fails_at_its_deadline_as_upstream_timeout()
    {
        await JobFailures.SubmitToFailureAsync(app.Client, "never finishes", "Upstream:DeadlineSeconds");

        app.Provider.Verify(p => p.CheckAsync(It.IsAny<ProviderCall>(), "task-1", It.IsAny<CancellationToken>()), Times.AtLeast(2));
    }

    [Fact]
    public async Task A_sync_request_whose_job_passes_its_deadline_answers_504_upstream_timeout()
    {
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "waits past the deadline" });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(GenerationErrors.UpstreamTimeout, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }
}

/// <summary>A provider whose call never answers: it waits until its call is canceled, and says when that happened.</summary>
public sealed class HangingUpstreamFixture : SeamProviderFixture
{
    public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Upstream:DeadlineSeconds"] = "3" };

    public HangingUpstreamFixture() => SubmitsHangUntilCanceled(Canceled);
}

public sealed class DeadlineCutTests(HangingUpstreamFixture app) : IClassFixture<HangingUpstreamFixture>
{
    [Fact]
    public async Task An_upstream_call_still_under_way_at_the_deadline_is_cut_there_and_the_job_fails_as_upstream_timeout()
    {
        // Without the cut the deadline timer would wait on the call for ever, and the job would never end.
        await JobFailures.SubmitToFailureAsync(app.Client, "the upstream never answers", "Upstream:DeadlineSeconds");

        Assert.True(app.Canceled.Task.IsCompleted, "the provider's call was not canceled");
    }
}

static class JobFailures
{
    /// <summary>Submits a job with respond-async, polls it to its end, checks that it failed saying <paramref name="reason"/>, and returns it.</summary>
    public static async Task<JsonElement> SubmitToFailureAsync(HttpClient client, string prompt, string reason, int seconds = 30)
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(client, new { prompt });
        var job = await JobsApiTests.PollAsync(client, accepted.Headers.Location!.AbsolutePath, seconds);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains(reason, job.GetProperty("error").GetString());
        return job;
    }
}

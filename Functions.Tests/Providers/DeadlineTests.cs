using System.Diagnostics;
using Functions.Tests.Api;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>Attempts far longer than the deadline: the deadline, not the attempt timeout, must end a call that hangs.</summary>
public sealed class ShortDeadlineProviderFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => With(("Upstream:DeadlineSeconds", "3"), ("Upstream:AttemptTimeoutSeconds", "60"));
}

/// <summary>Upstream:DeadlineSeconds bounds a whole generation, inline or as a job, even while an upstream call is under way.</summary>
public sealed class DeadlineTests(ShortDeadlineProviderFixture app) : IClassFixture<ShortDeadlineProviderFixture>
{
    // Well under the fake's 30 s hang, well over the 3 s deadline on a busy machine.
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_inline_generation_ends_at_the_deadline_while_its_upstream_hangs()
    {
        app.ClearFaults();
        app.SiliconFlow.Fail("/v1/images/generations", Fault.Hang);
        var clock = Stopwatch.StartNew();

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "hangs inline", model = "Qwen/Qwen-Image" });

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
        Assert.Contains("did not finish within 3 s", error.GetProperty("message").GetString());
        Assert.True(clock.Elapsed < Bound, $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task An_asynchronous_task_that_never_finishes_fails_as_timed_out_at_the_deadline()
    {
        app.ClearFaults();
        app.Geminigen.Hold = true;
        var clock = Stopwatch.StartNew();
        try
        {
            var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "forever", model = "imagen-flash" });

            var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
            Assert.Contains("did not finish within 3 s", error.GetProperty("message").GetString());
            Assert.True(clock.Elapsed < Bound, $"took {clock.Elapsed}");
        }
        finally
        {
            app.Geminigen.Hold = false;
        }
    }

    [Fact]
    public async Task A_task_whose_checks_all_fail_ends_at_the_deadline_naming_the_last_checks_failure()
    {
        app.ClearFaults();
        app.Geminigen.Hold = true;
        app.Geminigen.Fail("/uapi/v1/history/", Fault.ServerError);
        try
        {
            var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "its checks fail", model = "imagen-flash" });

            var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
            // Not only "unfinished": the task could not be followed, which is the upstream's history endpoint failing.
            Assert.Contains("unfinished at the deadline (its last status check failed: geminigen answered 500)", error.GetProperty("message").GetString());
            Assert.Contains(app.Logs, line => line.Contains("a status check of imagen-flash's task failed (geminigen answered 500); it checks again")
                && line.Contains("Job job_"));
        }
        finally
        {
            app.Geminigen.Hold = false;
            app.ClearFaults();
        }
    }

    [Fact]
    public async Task A_job_ends_at_its_deadline_while_a_synchronous_upstream_hangs()
    {
        app.ClearFaults();
        app.SiliconFlow.Fail("/v1/images/generations", Fault.Hang);
        var clock = Stopwatch.StartNew();

        var accepted = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
        {
            Content = JsonContent.Create(new { prompt = "hangs in a job", model = "Qwen/Qwen-Image" }),
            Headers = { { "Prefer", "respond-async" } },
        });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await JobsApiTests.PollAsync(app.Client, accepted.Headers.Location!.AbsolutePath, seconds: 45);

        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Contains("Upstream:DeadlineSeconds", job.GetProperty("error").GetString());
        Assert.True(clock.Elapsed < Bound, $"took {clock.Elapsed}");
    }
}

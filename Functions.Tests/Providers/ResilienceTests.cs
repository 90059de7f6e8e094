using System.Diagnostics;
using Functions.Tests.Api;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>A provider's circuit opens after enough failures: calls then fail fast with 503 and never reach it.</summary>
public sealed class CircuitBreakerFixture : ProviderFixture
{
    protected override string BreakerMinimumCalls => "2";
}

public sealed class CircuitBreakerTests(CircuitBreakerFixture app) : IClassFixture<CircuitBreakerFixture>
{
    [Fact]
    public async Task After_repeated_failures_the_circuit_opens_and_answers_503_without_calling_the_upstream()
    {
        app.OpenAi.Fail("/v1/images/generations", Fault.ServerError);
        var first = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "breaks", model = "gpt-image-1" });
        await GenerateImageTests.AssertKioaiError(first, HttpStatusCode.BadGateway, "upstream_error");
        var calls = app.OpenAi.Requests.Count;

        var clock = Stopwatch.StartNew();
        var second = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "fails fast", model = "gpt-image-1" });

        await GenerateImageTests.AssertKioaiError(second, HttpStatusCode.ServiceUnavailable, "provider_unavailable");
        Assert.InRange(second.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30)); // the break left (Upstream:BreakSeconds, 30)
        Assert.Contains(app.Logs, line => line.StartsWith("Warning ") && line.Contains("Calls to openai (Generate) are paused for 30 s") && line.Contains("status 500"));
        Assert.Equal(calls, app.OpenAi.Requests.Count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");

        // Through a job (an Idempotency-Key makes one), the 503 says when too, and names the job, which a retry must delete to reuse the key.
        var viaJob = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
        {
            Content = JsonContent.Create(new { prompt = "fails fast in a job", model = "gpt-image-1" }),
            Headers = { { "Idempotency-Key", Guid.NewGuid().ToString("N") } },
        });
        var error = await GenerateImageTests.AssertKioaiError(viaJob, HttpStatusCode.ServiceUnavailable, "provider_unavailable");
        Assert.InRange(viaJob.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));
        Assert.Matches(@"\(job job_[0-9a-f]+\)$", error.GetProperty("message").GetString());
        Assert.Contains(app.Logs, line => line.StartsWith("Warning ") && System.Text.RegularExpressions.Regex.IsMatch(line, @"Job job_[0-9a-f]+ failed \(provider_unavailable\): "));
        Assert.Equal(calls, app.OpenAi.Requests.Count);

        // Another provider's circuit is its own.
        var other = await app.GenerateAsync(new { prompt = "still fine", model = "Qwen/Qwen-Image" });
        Assert.False(other.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean());
    }

    [Fact]
    public async Task Failing_checks_of_one_task_do_not_pause_new_submits()
    {
        app.ClearFaults();
        var checksBefore = app.Geminigen.CountOf("/uapi/v1/history/");
        app.Geminigen.Fail("/uapi/v1/history/", Fault.ServerError, times: 4);
        var first = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
        {
            Content = JsonContent.Create(new { prompt = "its checks fail for a while", model = "imagen-4" }),
            Headers = { { "Prefer", "respond-async" } },
        });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        // The failing checks are made.
        await Eventually.HoldsAsync(() => Task.FromResult(app.Geminigen.CountOf("/uapi/v1/history/") >= checksBefore + 4), TimeSpan.FromSeconds(10));

        // Were checks counted with submits, the four failures would have opened geminigen's circuit: 503 provider_unavailable.
        var second = await app.GenerateAsync(new { prompt = "a new task meanwhile", model = "imagen-4" });

        Assert.False(second.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean());
    }
}

/// <summary>A short break, so that it is over when a failed key is sent again.</summary>
public sealed class ShortBreakFixture : ProviderFixture
{
    protected override string BreakerMinimumCalls => "2";
    protected override IReadOnlyDictionary<string, string?> Settings => With(("Upstream:BreakSeconds", "2"));
}

public sealed class ReplayedFailureTests(ShortBreakFixture app) : IClassFixture<ShortBreakFixture>
{
    [Fact]
    public async Task A_replayed_provider_unavailable_does_not_ask_to_be_retried()
    {
        app.OpenAi.Fail("/v1/images/generations", Fault.ServerError);
        await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "breaks", model = "gpt-image-1" });
        var key = Guid.NewGuid().ToString("N");
        HttpRequestMessage Keyed() => new(HttpMethod.Post, "/api/images/generate")
        {
            Content = JsonContent.Create(new { prompt = "fails fast in a job", model = "gpt-image-1" }),
            Headers = { { "Idempotency-Key", key } },
        };
        var first = await app.Client.SendAsync(Keyed());
        await GenerateImageTests.AssertKioaiError(first, HttpStatusCode.ServiceUnavailable, "provider_unavailable");
        Assert.NotNull(first.Headers.RetryAfter);
        app.OpenAi.ClearFaults();
        await Task.Delay(TimeSpan.FromSeconds(3)); // the break over, the upstream healthy again

        var again = await app.Client.SendAsync(Keyed());

        // The same key can only answer this failure again: "retry after 1 s" would make a client loop.
        await GenerateImageTests.AssertKioaiError(again, HttpStatusCode.ServiceUnavailable, "provider_unavailable");
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        Assert.Null(again.Headers.RetryAfter);
    }
}

/// <summary>Image URLs at loopback or private addresses are refused unless a setting allows them.</summary>
public sealed class StrictImagesFixture : ProviderFixture
{
    protected override string AllowPrivateAddresses => "false";
}

public sealed class StrictImageTests(StrictImagesFixture app) : IClassFixture<StrictImagesFixture>
{
    [Fact]
    public async Task An_image_url_at_a_private_address_is_refused()
    {
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "points home", model = "Qwen/Qwen-Image" });

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "invalid_upstream_image");
        Assert.Contains("loopback or private address", error.GetProperty("message").GetString());
        Assert.Equal(0, app.SiliconFlow.ImagesServed);
    }
}

using System.Diagnostics;
using Functions.Tests.Api;
using Functions.Tests.Fakes;
using Functions.Generation;

namespace Functions.Tests.Providers;

/// <summary>Every upstream fault ends in a fallback success or in the documented error, within its deadline.</summary>
[RunsLong]
public sealed class FaultTests(ProviderFixture app) : IClassFixture<ProviderFixture>
{
    internal const string Grok = "/uapi/v1/imagen/grok";
    internal const string Meta = "/uapi/v1/meta_ai/generate";

    /// <summary>Generates on grok; answers the apiDebug and how many tasks were then sent to grok and to meta, its fallback.</summary>
    async Task<(JsonElement Debug, int Grok, int Meta)> GenerateOnGrokAsync(string prompt)
    {
        var (grok, meta) = (app.Geminigen.CountOf(Grok), app.Geminigen.CountOf(Meta));
        var json = await app.GenerateAsync(new { prompt, model = "grok" });
        return (json.GetProperty("apiDebug"), app.Geminigen.CountOf(Grok) - grok, app.Geminigen.CountOf(Meta) - meta);
    }

    /// <summary>Generates on grok and checks that grok served it, after this many submits, with nothing sent to meta.</summary>
    async Task AssertServedByGrokAsync(string prompt, int grokSubmits)
    {
        var (debug, grok, meta) = await GenerateOnGrokAsync(prompt);
        Assert.False(debug.GetProperty("usedFallback").GetBoolean());
        Assert.Equal((grokSubmits, 0), (grok, meta));
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_retried_after_the_wait_without_a_fallback()
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, Fault.RateLimited, times: 1);
        var before = app.Geminigen.Requests.Count;

        var json = await app.GenerateAsync(new { prompt = "rate limited once", model = "grok" });

        Assert.False(json.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean());
        var submits = app.Geminigen.Requests.Skip(before).Where(r => r.Path == Grok).ToList();
        Assert.Equal(2, submits.Count);
        Assert.Equal(0, app.Geminigen.Requests.Skip(before).Count(r => r.Path == Meta));
        AssertWaited(submits, TimeSpan.FromSeconds(1)); // Retry-After: 1, against a base retry delay of 0.05 s
    }

    // The second submit came no sooner than the wait the 429 asked for (less a clock's tick).
    static void AssertWaited(IReadOnlyList<FakeRequest> submits, TimeSpan retryAfter) =>
        Assert.True(submits[1].ReceivedAt - submits[0].ReceivedAt >= retryAfter - TimeSpan.FromMilliseconds(20),
            $"sent again after {(submits[1].ReceivedAt - submits[0].ReceivedAt).TotalMilliseconds:0} ms, asked to wait {retryAfter.TotalMilliseconds:0}");

    [Theory]
    [InlineData(Fault.RateLimitedForAMinute)]
    [InlineData(Fault.RateLimitedForMillennia)]
    public async Task A_429_asking_for_a_longer_wait_than_the_retry_delay_maximum_falls_back_at_once(Fault fault)
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, fault, times: 1);
        var clock = Stopwatch.StartNew();

        var (debug, grok, meta) = await GenerateOnGrokAsync("rate limited for a minute");

        Assert.Contains("RATE_LIMIT_ERROR", debug.GetProperty("fallbackReason").GetString());
        Assert.Equal((1, 1), (grok, meta)); // not waited for: Upstream:MaxRetryDelaySeconds is 2
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_429_asking_to_wait_until_a_date_past_the_retry_delay_maximum_falls_back_at_once()
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, Fault.RateLimitedForAnHourByDate, times: 1);

        var (debug, grok, meta) = await GenerateOnGrokAsync("rate limited for an hour, by date");

        Assert.Contains("RATE_LIMIT_ERROR", debug.GetProperty("fallbackReason").GetString());
        Assert.Equal((1, 1), (grok, meta)); // not sent again: the date is past Upstream:MaxRetryDelaySeconds
    }

    [Fact]
    public async Task A_429_asking_for_exactly_the_retry_delay_maximum_is_waited_for_without_a_fallback()
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, Fault.RateLimitedForTheLongestWait, times: 1); // Retry-After: 2, Upstream:MaxRetryDelaySeconds is 2
        var before = app.Geminigen.Requests.Count;

        await AssertServedByGrokAsync("rate limited for the longest wait", grokSubmits: 2);
        AssertWaited([.. app.Geminigen.Requests.Skip(before).Where(r => r.Path == Grok)], TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_429_from_siliconflow_is_retried_without_a_fallback()
    {
        app.ClearFaults();
        app.SiliconFlow.Fail("/v1/images/generations", Fault.RateLimited, times: 1);
        var before = app.SiliconFlow.CountOf("/v1/images/generations");

        var json = await app.GenerateAsync(new { prompt = "siliconflow rate limited once", model = "Kwai-Kolors/Kolors" });

        Assert.False(json.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean());
        Assert.Equal(before + 2, app.SiliconFlow.CountOf("/v1/images/generations"));
    }

    [Theory]
    [InlineData(Fault.ContentFiltered, HttpStatusCode.BadRequest, "content_filtered", "GEMINI_RAI_MEDIA_FILTERED")]
    [InlineData(Fault.BadCredentials, HttpStatusCode.BadGateway, "upstream_unauthorized", "API_KEY_NOT_FOUND")]
    [InlineData(Fault.NoCredit, HttpStatusCode.BadGateway, "upstream_no_credit", "Not enough credit")]
    [InlineData(Fault.PremiumPlanRequired, HttpStatusCode.BadGateway, "upstream_no_credit", "PREMIUM_PLAN_REQUIRED")] // a 403 about the plan, not the key
    [InlineData(Fault.BadRequest, HttpStatusCode.BadRequest, "upstream_rejected", "Prompt is too long")]
    [InlineData(Fault.RefusalNotUtf8, HttpStatusCode.BadRequest, "upstream_rejected", "grok: geminigen answered 400")] // was: 503 submit_interrupted, "may have taken, and billed, it"
    public async Task A_final_fault_fails_the_job_with_the_upstreams_reason_and_no_fallback(Fault fault, HttpStatusCode status, string code, string reason)
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, fault);
        var metaBefore = app.Geminigen.CountOf(Meta);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = $"final {fault}", model = "grok" });

        var error = await GenerateImageTests.AssertKioaiError(response, status, code);
        Assert.Contains(reason, error.GetProperty("message").GetString());
        Assert.Equal(metaBefore, app.Geminigen.CountOf(Meta));
    }

    [Fact]
    public async Task A_failing_check_is_retried_and_the_task_still_completes()
    {
        app.ClearFaults();
        app.Geminigen.Fail("/uapi/v1/history/", Fault.Unavailable, times: 3);
        var json = await app.GenerateAsync(new { prompt = "flaky checks", model = "imagen-4" });
        Assert.False(json.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean());
    }

    [Theory]
    [InlineData(Fault.RequestTimeout)] // 408
    [InlineData(Fault.Hang)] // no answer within the check's time bound
    [InlineData(Fault.NoAnswer)] // the connection closes, nothing answered
    [InlineData(Fault.BrokenAnswer)] // an answer that broke off
    [InlineData(Fault.RateLimited)] // 429
    [InlineData(Fault.MalformedJson)] // was: a second, paid task on meta
    [InlineData(Fault.NotAnObject)]
    [InlineData(Fault.TooManyValues)]
    public async Task A_check_without_a_usable_answer_counts_as_pending_and_the_paid_task_is_checked_again(Fault fault)
    {
        app.ClearFaults();
        app.Geminigen.Fail("/uapi/v1/history/", fault, times: 2);

        await AssertServedByGrokAsync($"check fails: {fault}", grokSubmits: 1);
    }

    [Fact]
    public async Task A_check_answer_with_a_byte_that_is_no_utf8_counts_as_pending_past_the_checks_retries()
    {
        app.ClearFaults();
        app.Geminigen.Fail("/uapi/v1/history/", Fault.NotUtf8, times: 5); // was: the job failed after 4 attempts at its check, the paid task left

        await AssertServedByGrokAsync("check answer not UTF-8", grokSubmits: 1);
    }

    [Fact]
    public async Task A_task_id_sent_as_a_number_is_checked_by_it_and_the_paid_task_is_not_submitted_again()
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, Fault.NumericTaskId, times: 1); // was: "a record without a uuid", and meta submitted (and paid) too

        await AssertServedByGrokAsync("a numeric task id", grokSubmits: 1);
    }

    [Fact]
    public async Task A_task_the_upstream_no_longer_knows_falls_back_as_its_failure_not_the_clients()
    {
        app.ClearFaults();
        app.Geminigen.Fail("/uapi/v1/history/", Fault.TaskGone, times: 1);

        var json = await app.GenerateAsync(new { prompt = "a task gone", model = "grok" });

        Assert.Contains("geminigen no longer knows the task", json.GetProperty("apiDebug").GetProperty("fallbackReason").GetString());
    }

    [Fact]
    public async Task A_redirect_is_not_followed_so_the_key_stays_with_the_upstream()
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, Fault.Redirect, times: 1);

        var json = await app.GenerateAsync(new { prompt = "redirected", model = "grok" });

        Assert.Equal(0, app.Geminigen.CountOf("/elsewhere")); // geminigen's x-api-key would have gone along
        Assert.Contains("a redirect, not followed", json.GetProperty("apiDebug").GetProperty("fallbackReason").GetString());
    }

    [Theory]
    [InlineData(Fault.ExpiredUrl)]
    [InlineData(Fault.NotAnImage)]
    [InlineData(Fault.OversizedImage)]
    [InlineData(Fault.Unavailable)]
    [InlineData(Fault.RequestTimeout)] // a 408: the upstream gave up on the request, nothing the client did
    [InlineData(Fault.RateLimited)] // still 429 after its retry: busy now, another model may not be
    [InlineData(Fault.GatewayTimeout)] // 504, "overloaded" (UPSTREAMS.md), still after its retry
    public async Task SiliconFlow_faults_fall_back_to_the_other_model(Fault fault)
    {
        var (_, debug) = await app.GenerateThroughFallbackAsync(app.SiliconFlow, "/v1/images/generations", fault, "Kwai-Kolors/Kolors",
            times: fault is Fault.Unavailable or Fault.RateLimited or Fault.GatewayTimeout ? 2 : 1);
        Assert.Equal("Qwen/Qwen-Image", JsonSerializer.Deserialize<JsonElement>(debug.GetProperty("requestBody").GetRawText()).GetProperty("model").GetString());
    }

    [Fact]
    public async Task An_image_url_whose_content_type_disagrees_with_its_bytes_falls_back_naming_both_types()
    {
        var (_, debug) = await app.GenerateThroughFallbackAsync(app.SiliconFlow, "/v1/images/generations", Fault.MislabelledImage,
            "Kwai-Kolors/Kolors", times: 1);

        Assert.Contains("the image URL says image/jpeg but sent image/png", debug.GetProperty("fallbackReason").GetString());
    }

    [Theory]
    [InlineData("Qwen/Qwen-Image", Fault.NoCredit, HttpStatusCode.BadGateway, "upstream_no_credit")]
    [InlineData("Qwen/Qwen-Image", Fault.BadRequest, HttpStatusCode.BadRequest, "upstream_rejected")]
    [InlineData("Qwen/Qwen-Image", Fault.BadCredentials, HttpStatusCode.BadGateway, "upstream_unauthorized")]
    [InlineData("Qwen/Qwen-Image", Fault.Forbidden, HttpStatusCode.BadGateway, "upstream_unauthorized")] // a 403 about permission, not balance
    [InlineData("gpt-image-1", Fault.ContentFiltered, HttpStatusCode.BadRequest, "content_filtered")]
    [InlineData("gpt-image-1", Fault.NoCredit, HttpStatusCode.BadGateway, "upstream_no_credit")]
    [InlineData("gpt-image-1", Fault.BillingHardLimit, HttpStatusCode.BadGateway, "upstream_no_credit")] // a 400 about credit, not the request
    [InlineData("gpt-image-1", Fault.ModerationBlocked, HttpStatusCode.BadRequest, "content_filtered")]
    [InlineData("gpt-image-1", Fault.NotAnImage, HttpStatusCode.BadGateway, "invalid_upstream_image")]
    [InlineData("gpt-image-1", Fault.ServerError, HttpStatusCode.BadGateway, "upstream_error")]
    [InlineData("gpt-image-1", Fault.NotAnObject, HttpStatusCode.BadGateway, "upstream_error")] // was a 500: its members were read as an object's
    [InlineData("Qwen/Qwen-Image", Fault.NotAnObject, HttpStatusCode.BadGateway, "upstream_error")]
    [InlineData("gpt-image-1", Fault.TooManyValues, HttpStatusCode.BadGateway, "upstream_error")] // read as a tree, 40 MB of them took 3.7 GB
    [InlineData("Qwen/Qwen-Image", Fault.TooManyValues, HttpStatusCode.BadGateway, "upstream_error")]
    [InlineData("gpt-image-1", Fault.NotUtf8, HttpStatusCode.BadGateway, "upstream_error")] // was a 500: a string of it could not be read
    [InlineData("Qwen/Qwen-Image", Fault.NotUtf8, HttpStatusCode.BadGateway, "upstream_error")]
    [InlineData("gpt-image-1", Fault.RefusalNotUtf8, HttpStatusCode.BadRequest, "upstream_rejected")] // was a 500
    [InlineData("Qwen/Qwen-Image", Fault.CutOffImage, HttpStatusCode.BadGateway, "invalid_upstream_image")] // was a 500: the IOException escaped
    [InlineData("Qwen/Qwen-Image", Fault.ContentFiltered, HttpStatusCode.BadRequest, "content_filtered")] // a 400 about the prompt, not upstream_rejected
    [InlineData("gpt-image-1", Fault.Forbidden, HttpStatusCode.BadGateway, "upstream_unauthorized")] // a 403 with no code of its own
    [InlineData("gpt-image-1", Fault.PaymentRequired, HttpStatusCode.BadGateway, "upstream_no_credit")] // AIImg's 402
    [InlineData("gpt-image-1", Fault.BadGateway, HttpStatusCode.BadGateway, "upstream_error")] // AIImg's 502, still failing after the retry
    [InlineData("Qwen/Qwen-Image", Fault.GatewayTimeout, HttpStatusCode.BadGateway, "upstream_error")] // SiliconFlow's 504
    public async Task SiliconFlow_and_OpenAi_errors_answer_with_their_status(string model, Fault fault, HttpStatusCode status, string code)
    {
        app.ClearFaults();
        (model == "gpt-image-1" ? (FakeUpstream)app.OpenAi : app.SiliconFlow).Fail("/v1/images/generations", fault);
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = $"{model} {fault}", model });
        var error = await GenerateImageTests.AssertKioaiError(response, status, code);
        if (fault is Fault.NotAnObject or Fault.TooManyValues or Fault.NotUtf8) Assert.Contains(Functions.Generation.Providers.UpstreamResponse.Unreadable, error.GetProperty("message").GetString());
        // Logged once, for whoever runs the service: a warning when the fault is the upstream's, not the client's.
        var level = (int)status >= 500 ? "Warning" : "Information";
        Assert.Contains(app.Logs, line => line.StartsWith($"{level} ") && line.Contains($"Generating with {model} failed ({code}): {error.GetProperty("message").GetString()}"));
    }

    /// <summary>The message of gpt-image-1's refusal (400 upstream_rejected) when the fake OpenAI answers <paramref name="fault"/>.</summary>
    async Task<string> OpenAiRefusalAsync(Fault fault, string prompt)
    {
        app.ClearFaults();
        app.OpenAi.Fail("/v1/images/generations", fault);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt, model = "gpt-image-1" });

        return (await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, "upstream_rejected")).GetProperty("message").GetString()!;
    }

    [Fact]
    public async Task An_error_given_as_a_plain_string_is_quoted_as_the_upstreams_message() =>
        // Was: "gpt-image-1: openai answered 400", the gateway's reason lost.
        Assert.Contains("openai answered 400: size must be one of 1024x1024", await OpenAiRefusalAsync(Fault.ErrorAsText, "an error as text"));

    [Fact]
    public async Task An_openai_429_for_an_exhausted_quota_is_final_and_not_sent_again()
    {
        app.ClearFaults();
        var before = app.OpenAi.CountOf("/v1/images/generations");
        app.OpenAi.Fail("/v1/images/generations", Fault.NoCredit);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "out of quota", model = "gpt-image-1" });

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "upstream_no_credit");
        Assert.Equal(before + 1, app.OpenAi.CountOf("/v1/images/generations")); // a rate-limit 429 is retried (Upstream:MaxRetries 1)
    }

    [Theory]
    [InlineData("gpt-image-1", "gpt-image-1: openai answered 403")]
    [InlineData("Qwen/Qwen-Image", "Qwen/Qwen-Image: siliconflow answered 403")] // was "siliconflow answered 403 :"
    public async Task An_error_answer_without_a_body_is_named_by_its_status_alone(string model, string message)
    {
        app.ClearFaults();
        (model == "gpt-image-1" ? (FakeUpstream)app.OpenAi : app.SiliconFlow).Fail("/v1/images/generations", Fault.BareForbidden);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "a bare 403", model });

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "upstream_unauthorized");
        Assert.Equal(message, error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("gpt-image-1", "gpt-image-1: openai answered 401")]
    [InlineData("Qwen/Qwen-Image", "Qwen/Qwen-Image: siliconflow answered 401")]
    public async Task An_error_answer_too_large_to_read_still_counts_by_its_status(string model, string message)
    {
        app.ClearFaults();
        (model == "gpt-image-1" ? (FakeUpstream)app.OpenAi : app.SiliconFlow).Fail("/v1/images/generations", Fault.HugeErrorBody);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "a huge error body", model });

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "upstream_unauthorized");
        Assert.Equal(message, error.GetProperty("message").GetString()); // the body, past 64 KiB, is not read
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // with a key, a job: its failure once overflowed the job's status (500 generation_failed)
    public async Task An_upstream_error_quoting_a_long_prompt_answers_as_the_upstreams_refusal_inline_and_as_a_job(bool asJob)
    {
        app.ClearFaults();
        app.OpenAi.Fail("/v1/images/generations", Fault.EchoesPrompt, times: 1);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
        {
            Content = JsonContent.Create(new { prompt = "echo " + string.Concat(Enumerable.Repeat("\U0001F600", 3995)), model = "gpt-image-1" }),
        };
        if (asJob) request.Headers.Add("Idempotency-Key", $"long-echo-{Guid.NewGuid():N}");

        var error = await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(request), HttpStatusCode.BadRequest, "upstream_rejected");

        Assert.StartsWith("gpt-image-1: openai answered 400 invalid_prompt: Your prompt was rejected: echo \U0001F600", error.GetProperty("message").GetString());
        // A job's answer also names its job: " (job job_…)".
        Assert.InRange(error.GetProperty("message").GetString()!.Length, 100, Functions.Generation.GenerationFailedException.MaxMessageChars + (asJob ? 70 : 30));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_prompt_an_upstream_quotes_back_is_answered_to_its_client_but_not_logged(bool asJob)
    {
        app.ClearFaults();
        app.OpenAi.Fail("/v1/images/generations", Fault.EchoesPrompt, times: 1);
        var prompt = $"PRIVATE-{Guid.NewGuid():N} a plan nobody else should read";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
        {
            Content = JsonContent.Create(new { prompt, model = "gpt-image-1", isPrivate = true }),
        };
        if (asJob) request.Headers.Add("Idempotency-Key", $"echo-{Guid.NewGuid():N}");

        var error = await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(request), HttpStatusCode.BadRequest, "upstream_rejected");

        Assert.Contains(prompt, error.GetProperty("message").GetString()); // the client's own prompt, to the client
        Assert.DoesNotContain(app.Logs, line => line.Contains(prompt[..16]));
        Assert.Contains(app.Logs, line => line.Contains("failed (upstream_rejected)") && line.Contains(PromptsInLogs.Placeholder));
    }

    [Fact]
    public async Task A_final_fault_of_an_inline_model_is_the_answer_and_its_fallback_is_not_tried()
    {
        app.ClearFaults();
        app.SiliconFlow.Fail("/v1/images/generations", Fault.ContentFiltered, times: 1); // the fallback would answer
        var before = app.SiliconFlow.Requests.Count;

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "filtered, not retried elsewhere", model = "Kwai-Kolors/Kolors" });

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, "content_filtered");
        Assert.Equal(["Kwai-Kolors/Kolors"], SiliconFlowModelsSince(before));
    }

    async Task<string?> UploadAsync(byte[] image) =>
        (await (await ImageCheckTests.UploadAsync(app.Client, image, "reference.png")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file_id").GetString();

    /// <summary>The models SiliconFlow was asked for since its request number <paramref name="before"/>, each once.</summary>
    List<string?> SiliconFlowModelsSince(int before) =>
        app.SiliconFlow.Requests.Skip(before).Select(r => r.Fields.GetValueOrDefault("model")).Distinct().ToList();

    [Fact]
    public async Task When_an_inline_chain_fails_the_answer_names_each_model_and_why_it_was_left()
    {
        app.ClearFaults();
        app.SiliconFlow.Fail("/v1/images/generations", Fault.ServerError);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "every model fails inline", model = "Kwai-Kolors/Kolors" });

        var message = (await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "upstream_error")).GetProperty("message").GetString();
        Assert.StartsWith("Kwai-Kolors/Kolors: siliconflow answered 500", message);
        Assert.Contains("; Qwen/Qwen-Image: siliconflow answered 500", message);
    }

    [Fact]
    public async Task A_resolution_goes_only_to_the_models_of_the_chain_that_take_one()
    {
        app.ClearFaults();
        app.Geminigen.Fail("/uapi/v1/generate_image", Fault.ServerError, times: 2); // nano-banana-pro, then nano-banana-2: a 500 is not sent again
        var before = app.Geminigen.Requests.Count;

        await app.GenerateAsync(new { prompt = "in 4K where it can", model = "nano-banana-pro", resolution = "4K" });

        var submits = app.Geminigen.Requests.Skip(before).Where(r => r.Method == "POST").ToList();
        Assert.Equal(["nano-banana-pro", "nano-banana-2", "imagen-4"], submits.Select(s => s.Fields["model"]));
        Assert.Equal(["4K", "4K", null], submits.Select(s => s.Fields.GetValueOrDefault("resolution"))); // imagen-4 takes none
    }

    [Fact]
    public async Task A_running_jobs_progress_is_the_upstreams_percentage_and_a_failed_check_leaves_it_as_it_was()
    {
        app.ClearFaults();
        app.Geminigen.Hold = true; // status 1, 30 % more at each check, up to 90 %
        string path;
        try
        {
            path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "shows its progress", model = "grok" })).Headers.Location!.AbsolutePath;
            await Eventually.HoldsAsync(async () => await ProgressAsync(path) is 0.9);
            app.Geminigen.Fail("/uapi/v1/history/", Fault.Unavailable); // every check fails from here on
            var checks = app.Geminigen.CountOf("/uapi/v1/history/");
            // Two failed checks: the job has recorded what the first one left it with.
            await Eventually.HoldsAsync(() => Task.FromResult(app.Geminigen.CountOf("/uapi/v1/history/") >= checks + 2));

            Assert.Equal(0.9, await ProgressAsync(path)); // not an unknown progress shown as -1
        }
        finally
        {
            app.ClearFaults();
        }
        Assert.Equal("succeeded", (await JobsApiTests.PollAsync(app.Client, path)).GetProperty("status").GetString());

        async Task<double?> ProgressAsync(string job) =>
            (await app.Client.GetFromJsonAsync<JsonElement>(job)).GetProperty("progress") is { ValueKind: JsonValueKind.Number } p ? p.GetDouble() : null;
    }

    [Fact]
    public async Task A_failed_job_is_listed_under_failed_and_not_under_canceled()
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, Fault.ContentFiltered);
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "listed as failed", model = "grok" });
        var job = await JobsApiTests.PollAsync(app.Client, accepted.Headers.Location!.AbsolutePath);
        Assert.Equal("failed", job.GetProperty("status").GetString());

        async Task<IEnumerable<string?>> ListedAsync(string status) =>
            (await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs?status={status}&limit=100")).GetProperty("data").EnumerateArray()
                .Select(j => j.GetProperty("id").GetString());
        Assert.Contains(job.GetProperty("id").GetString(), await ListedAsync("failed"));
        Assert.DoesNotContain(job.GetProperty("id").GetString(), await ListedAsync("canceled"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // named by referenceFileId
    public async Task A_fallback_that_takes_no_reference_is_left_out_when_the_request_has_one(bool uploaded)
    {
        app.ClearFaults();
        object body = uploaded
            ? new { prompt = "keeps its uploaded reference", model = "Kwai-Kolors/Kolors", referenceFileId = await UploadAsync(FakeUpstream.Image) }
            : new { prompt = "keeps its reference", model = "Kwai-Kolors/Kolors", referenceImageBase64 = Convert.ToBase64String(FakeUpstream.Image) };
        app.SiliconFlow.Fail("/v1/images/generations", Fault.ServerError);
        var before = app.SiliconFlow.Requests.Count;

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", body);

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Equal(["Kwai-Kolors/Kolors"], SiliconFlowModelsSince(before)); // Qwen/Qwen-Image takes no reference
    }

    [Fact]
    public async Task A_key_the_upstream_quotes_back_is_masked_in_the_answer()
    {
        var message = await OpenAiRefusalAsync(Fault.EchoesKey, "echoes its key");
        Assert.DoesNotContain(FakeOpenAi.Key, message);
        Assert.Contains("Key *** may not use this model", message);
    }

    [Fact]
    public async Task A_finished_task_whose_record_carries_megabytes_of_text_ends_its_job_with_the_image_and_apidebug_shows_it_cut()
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, Fault.VerboseRecord, times: 1);

        // The job carries its apiDebug through the job engine, whose messages are bounded (4 MiB): 5 MB kept whole held the job past its deadline.
        var json = await app.GenerateAsync(new { prompt = "a verbose upstream", model = "grok" });

        var debug = json.GetProperty("apiDebug");
        Assert.False(debug.GetProperty("usedFallback").GetBoolean());
        Assert.True(debug.GetRawText().Length < 100_000, $"apiDebug is {debug.GetRawText().Length} characters");
    }

    [Theory]
    [InlineData("gpt-image-1")]
    [InlineData("Kwai-Kolors/Kolors")]
    [InlineData("grok")]
    public async Task An_answer_nested_deeper_than_apidebug_can_show_gives_the_image_once_with_the_depth_cut(string model)
    {
        app.ClearFaults();
        var (upstream, path) = model switch
        {
            "grok" => ((FakeUpstream)app.Geminigen, Grok),
            "gpt-image-1" => (app.OpenAi, "/v1/images/generations"),
            _ => (app.SiliconFlow, "/v1/images/generations"),
        };
        upstream.Fail(path, Fault.DeeplyNested, times: 1);
        var (calls, history) = (upstream.CountOf(path), await GenerateImageTests.HistoryTotalAsync(app));

        // apiDebug sits 3 levels down in the answer (and deeper in a job's engine messages), whose writers stop at 64 levels.
        var json = await app.GenerateAsync(new { prompt = "a deeply nested answer", model });

        Assert.Equal(calls + 1, upstream.CountOf(path)); // a job's submit was not sent again
        Assert.Equal(history + 1, await GenerateImageTests.HistoryTotalAsync(app));
        var debug = json.GetProperty("apiDebug");
        Assert.False(debug.GetProperty("usedFallback").GetBoolean());
        Assert.Contains("nested deeper than", debug.GetProperty("responseBody").GetRawText());
    }
}

/// <summary>The provider fixture with the default image cap (50 MiB), far above the cap on a task's record.</summary>
public sealed class DefaultImageCapProviderFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Upstream:MaxImageBytes", (50L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("Upstream:DeadlineSeconds", "30")); // a 5 MB record checked, then the fallback: more than 15 s on a loaded machine once
}

/// <summary>A task's record (geminigen's submit and check answers) holds URLs, read in full at each check: it is capped apart from images.</summary>
public sealed class TaskRecordCapTests(DefaultImageCapProviderFixture app) : IClassFixture<DefaultImageCapProviderFixture>
{
    [Fact]
    public async Task A_task_record_past_4_MiB_moves_the_job_to_its_fallback_whatever_the_image_cap()
    {
        var (_, debug) = await app.GenerateThroughFallbackAsync(app.Geminigen, FaultTests.Grok, Fault.OversizedRecord, "grok");

        Assert.Contains("task record is larger than 4 MiB", debug.GetProperty("fallbackReason").GetString());
    }
}

/// <summary>
/// The provider fixture with a deadline well past a whole chain of hanging attempts (two models, two 1.5 s attempts
/// each, about 7 s), so that on a busy machine the chain, not the deadline, ends the job.
/// </summary>
public sealed class LongDeadlineProviderFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Upstream:DeadlineSeconds", "30"));
}

/// <summary>Faults whose retries take seconds: the job falls back, or the whole chain fails with its last failure.</summary>
[RunsLong]
public sealed class FallbackChainTests(LongDeadlineProviderFixture app) : IClassFixture<LongDeadlineProviderFixture>
{
    const string Grok = FaultTests.Grok, Meta = FaultTests.Meta;

    [Fact]
    public async Task A_check_answer_past_the_answer_cap_moves_the_job_to_its_fallback_at_once_not_at_its_deadline()
    {
        var (_, debug) = await app.GenerateThroughFallbackAsync(app.Geminigen, Grok, Fault.OversizedRecord, "grok");

        // Fell back, and for the record's size: at the deadline (30 s here, room for a loaded machine) the job would have ended as upstream_timeout instead.
        Assert.Contains("larger than", debug.GetProperty("fallbackReason").GetString());
    }

    [Theory]
    [InlineData(Fault.ServerError)]
    [InlineData(Fault.Unavailable)]
    [InlineData(Fault.Hang)]
    [InlineData(Fault.MalformedJson)]
    [InlineData(Fault.SlowBody)]
    [InlineData(Fault.ConcurrencyLimit)]
    [InlineData(Fault.RateLimited)]
    [InlineData(Fault.GeminiRateLimited)] // geminigen's own 429 code, not the gateway's
    [InlineData(Fault.OversizedImage)]
    [InlineData(Fault.NotAnImage)]
    [InlineData(Fault.TaskFails)]
    [InlineData(Fault.TaskFailsWithoutCode)] // the upstream's failure, not the client's
    public async Task A_retryable_fault_moves_the_job_to_its_fallback(Fault fault)
    {
        var metaBefore = app.Geminigen.CountOf(Meta);

        var (json, debug) = await app.GenerateThroughFallbackAsync(app.Geminigen, Grok, fault, "grok");

        Assert.StartsWith("grok: ", debug.GetProperty("fallbackReason").GetString());
        Assert.Empty(OpenApiContract.Kioai.Check(System.Text.Json.Nodes.JsonNode.Parse(json.GetRawText()), "GenerateImageResponse"));
        Assert.EndsWith(Meta, debug.GetProperty("requestUrl").GetString());
        Assert.Equal(metaBefore + 1, app.Geminigen.CountOf(Meta));
        Assert.Equal("grok", json.GetProperty("model").GetString()); // the model asked for; apiDebug says who made it
    }

    [Theory]
    [InlineData(Fault.Hang)] // no answer within the attempt's time
    [InlineData(Fault.SlowBody)] // an answer that stalls mid-body past the attempt's time
    [InlineData(Fault.BrokenAnswer)] // an answer that broke off
    [InlineData(Fault.ServerError)] // a 500: the upstream may have failed after starting the task
    public async Task A_submit_the_upstream_may_have_started_is_not_sent_again(Fault fault)
    {
        var (grokBefore, metaBefore) = (app.Geminigen.CountOf(Grok), app.Geminigen.CountOf(Meta));

        await app.GenerateThroughFallbackAsync(app.Geminigen, Grok, fault, "grok", times: 1);

        Assert.Equal(grokBefore + 1, app.Geminigen.CountOf(Grok)); // at most one task paid for on grok
        Assert.Equal(metaBefore + 1, app.Geminigen.CountOf(Meta));
    }

    [Theory]
    [InlineData(Fault.Unavailable)]
    [InlineData(Fault.RateLimited)]
    public async Task A_submit_the_upstream_refused_is_sent_again(Fault fault)
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, fault, times: 1);
        var (grokBefore, metaBefore) = (app.Geminigen.CountOf(Grok), app.Geminigen.CountOf(Meta));

        var json = await app.GenerateAsync(new { prompt = $"refused once: {fault}", model = "grok" });

        Assert.False(json.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean());
        Assert.Equal(grokBefore + 2, app.Geminigen.CountOf(Grok));
        Assert.Equal(metaBefore, app.Geminigen.CountOf(Meta));
    }

    [Theory]
    [InlineData(Fault.ServerError, HttpStatusCode.BadGateway, "upstream_error")]
    [InlineData(Fault.Hang, HttpStatusCode.GatewayTimeout, "upstream_timeout")]
    [InlineData(Fault.ConcurrencyLimit, HttpStatusCode.BadGateway, "upstream_rate_limited")] // the plan's concurrent generations: busy, not broken
    public async Task When_the_whole_chain_fails_the_last_failure_is_the_answer(Fault fault, HttpStatusCode status, string code)
    {
        app.ClearFaults();
        app.Geminigen.Fail(Grok, fault);
        app.Geminigen.Fail(Meta, fault);
        var clock = Stopwatch.StartNew();

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = $"all {fault}", model = "grok" });

        var error = await GenerateImageTests.AssertKioaiError(response, status, code);
        Assert.Contains("meta", error.GetProperty("message").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }
}

/// <summary>
/// The provider fixture with dall-e-3's and gpt-image-1-mini's catalog entries pointing at an endpoint the upstream does
/// not have, and two OpenAI-compatible models from configuration that do too: one whose chain has two more such models
/// before a good one, and one that falls back to grok, an asynchronous model.
/// </summary>
public sealed class LostEndpointFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Models:dall-e-3:Endpoint", "images/nowhere"), ("Models:gpt-image-1-mini:Endpoint", "images/nowhere"),
            ("Models:lost-twice:Provider", "openai"), ("Models:lost-twice:UpstreamModel", "gpt-image-1"), ("Models:lost-twice:Endpoint", "images/nowhere"),
            ("Models:lost-twice:Shapes:0", "1024x1024"), ("Models:lost-twice:Fallbacks:0", "gpt-image-1-mini"), ("Models:lost-twice:Fallbacks:1", "gpt-image-1"),
            ("Models:lost-then-grok:Provider", "openai"), ("Models:lost-then-grok:UpstreamModel", "gpt-image-1"),
            ("Models:lost-then-grok:Endpoint", "images/nowhere"), ("Models:lost-then-grok:Shapes:0", "1024x1024"), ("Models:lost-then-grok:Fallbacks:0", "grok"));
}

public sealed class LostEndpointTests(LostEndpointFixture app) : IClassFixture<LostEndpointFixture>
{
    [Fact]
    public async Task An_endpoint_the_upstream_does_not_have_is_its_failure_not_the_clients()
    {
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "a lost endpoint", model = "dall-e-3" });

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "upstream_error"); // was 400 upstream_rejected
        Assert.Contains("answered 404", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_model_whose_endpoint_is_missing_falls_back_to_the_next()
    {
        var (_, reason) = await GenerateThroughFallbackAsync("a lost endpoint, then a good one", "gpt-image-1-mini");

        Assert.StartsWith("gpt-image-1-mini: openai answered 404", reason);
    }

    [Fact]
    public async Task After_two_models_failed_the_fallback_reason_names_both_in_order()
    {
        var (debug, reason) = await GenerateThroughFallbackAsync("lost twice, then found", "lost-twice");

        Assert.StartsWith("lost-twice: openai answered 404", reason);
        Assert.Contains("; gpt-image-1-mini: openai answered 404", reason);
        Assert.Equal("gpt-image-1", debug.GetProperty("requestBody").GetProperty("model").GetString());
    }

    [Fact]
    public async Task A_chain_with_an_asynchronous_fallback_runs_as_a_job_and_reaches_it()
    {
        var (debug, reason) = await GenerateThroughFallbackAsync("lost, then grok", "lost-then-grok");

        Assert.StartsWith("lost-then-grok: openai answered 404", reason);
        Assert.Contains("/imagen/grok", debug.GetProperty("requestUrl").GetString());
    }

    /// <summary>Generates with <paramref name="model"/> and answers the apiDebug, which must say that it fell back, and why.</summary>
    async Task<(JsonElement Debug, string? Reason)> GenerateThroughFallbackAsync(string prompt, string model)
    {
        var debug = (await app.GenerateAsync(new { prompt, model })).GetProperty("apiDebug");
        Assert.True(debug.GetProperty("usedFallback").GetBoolean());
        return (debug, debug.GetProperty("fallbackReason").GetString());
    }
}

using Functions.Jobs;

namespace Functions.Tests.Api;

[RunsLong]
public sealed class IdempotencyTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task The_same_key_and_body_twice_answers_with_the_first_image_and_generates_once()
    {
        var key = Guid.NewGuid().ToString();
        var first = await GenerateAsync(new { prompt = "once only" }, key);
        var second = await GenerateAsync(new { prompt = "once only" }, key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        var a = await first.Content.ReadFromJsonAsync<JsonElement>();
        var b = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(a.ToString(), b.ToString());
        Assert.Equal(1, await CountJobsAsync("once only"));
        Assert.False(a.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean()); // made by a job, from its first model
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_409_and_creates_nothing()
    {
        var key = Guid.NewGuid().ToString();
        await GenerateAsync(new { prompt = "first body" }, key);

        var response = await GenerateAsync(new { prompt = "second body" }, key);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("idempotency_key_reused", error.GetProperty("error").GetString());
        Assert.Equal(0, await CountJobsAsync("second body"));
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_share_one_job()
    {
        var key = Guid.NewGuid().ToString();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => GenerateAsync(new { prompt = "racing with one key" }, key, respondAsync: true)));

        // A request that comes after the job ended gets its result (200) rather than the job (202): the same job either way.
        var jobIds = await Task.WhenAll(responses.Select(async r =>
        {
            var body = await r.Content.ReadFromJsonAsync<JsonElement>();
            if (r.StatusCode == HttpStatusCode.Accepted) return body.GetProperty("id").GetString()!;
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("true", r.Headers.GetValues("Idempotent-Replayed").Single());
            return JobIds.PublicPrefix + body.GetProperty("imageUrl").GetString()!.Split('/')[^2]["file_".Length..];
        }));
        Assert.Single(jobIds.Distinct());
        await JobsApiTests.PollAsync(app.Client, $"/api/v1/jobs/{jobIds[0]}");
        Assert.Equal(1, await CountJobsAsync("racing with one key"));
        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100");
        Assert.Single(history.GetProperty("images").EnumerateArray(), i => i.GetProperty("prompt").GetString() == "racing with one key");
    }

    [Fact]
    public async Task A_replay_of_a_respond_async_request_returns_the_same_job()
    {
        var key = Guid.NewGuid().ToString();
        var first = await (await GenerateAsync(new { prompt = "async replay" }, key, respondAsync: true)).Content.ReadFromJsonAsync<JsonElement>();
        await JobsApiTests.PollAsync(app.Client, $"/api/v1/jobs/{first.GetProperty("id").GetString()}");

        // Once the job has ended, the replay answers with its result.
        var replay = await GenerateAsync(new { prompt = "async replay" }, key, respondAsync: true);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, await CountJobsAsync("async replay"));
    }

    [Fact]
    public async Task A_key_whose_job_was_deleted_makes_a_new_job_at_once()
    {
        var key = Guid.NewGuid().ToString();
        var first = (await (await GenerateAsync(new { prompt = "deleted job" }, key, respondAsync: true)).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("id").GetString()!;
        await JobsApiTests.PollAsync(app.Client, $"/api/v1/jobs/{first}");
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/v1/jobs/{first}")).StatusCode);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var again = await GenerateAsync(new { prompt = "deleted job" }, key, respondAsync: true);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}: the freed key is not waited on");
        Assert.False(again.Headers.Contains("Idempotent-Replayed"));
        Assert.NotEqual(first, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_replay_after_its_image_was_deleted_is_409_not_a_dead_link()
    {
        var key = Guid.NewGuid().ToString();
        var image = await (await GenerateAsync(new { prompt = "image deleted later" }, key)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/images/{image.GetProperty("id").GetInt64()}")).StatusCode);

        var replay = await GenerateAsync(new { prompt = "image deleted later" }, key);

        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        Assert.Equal("image_deleted", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("tab\there")]
    [InlineData("é")]
    public async Task A_key_that_is_not_printable_ascii_is_400(string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(new { prompt = "x" }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_idempotency_key", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_key_with_spaces_inside_is_printable_ascii_and_replays()
    {
        var key = $"order {Guid.NewGuid()} retry";
        await GenerateAsync(new { prompt = "spaced key" }, key);

        var second = await GenerateAsync(new { prompt = "spaced key" }, key);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task Two_key_headers_are_400_not_one_key_made_of_both()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(new { prompt = "two keys" }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", ["first-key", "second-key"]);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_idempotency_key", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(0, await CountJobsAsync("two keys"));
    }

    [Fact]
    public async Task A_key_of_255_characters_is_taken_and_one_over_is_400()
    {
        var longest = await GenerateAsync(new { prompt = "the longest key" }, Guid.NewGuid().ToString().PadRight(255, 'k'));
        var over = await GenerateAsync(new { prompt = "x" }, new string('k', 256));

        Assert.Equal(HttpStatusCode.OK, longest.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
    }

    [Fact]
    public async Task A_key_whose_request_died_before_making_its_job_is_409_in_progress_with_retry_after_not_a_90_s_hang()
    {
        var key = Guid.NewGuid().ToString();
        var body = """{"prompt":"orphaned key"}""";
        await app.Service<IdempotencyKeys>().BindAsync(key, new KeyUse(JobIds.New(DateTimeOffset.UtcNow, false),
            IdempotencyKeys.HashOf(System.Text.Encoding.UTF8.GetBytes(body)), DateTimeOffset.UtcNow), _ => Task.FromResult(true), default);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", key);
        request.Headers.Add("Prefer", "respond-async");

        var response = await app.Client.SendAsync(request);

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.Conflict, "idempotency_key_in_progress");
        Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single()), 30, 66);
        Assert.Contains("send this one again in", error.GetProperty("message").GetString());
    }

    async Task<HttpResponseMessage> GenerateAsync(object body, string key, bool respondAsync = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        if (respondAsync) request.Headers.Add("Prefer", "respond-async");
        return await app.Client.SendAsync(request);
    }

    async Task<int> CountJobsAsync(string prompt)
    {
        var jobs = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?limit=100");
        return jobs.GetProperty("data").EnumerateArray().Count(j => j.GetProperty("params").GetProperty("prompt").GetString() == prompt);
    }
}

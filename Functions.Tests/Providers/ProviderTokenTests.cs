using Functions.Tests.Api;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>A token per provider: saved ones win over app settings; a JWT goes to geminigen's website API; no secret leaks.</summary>
public sealed class ProviderTokenTests(ProviderFixture app) : IClassFixture<ProviderFixture>
{
    async Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, object? body = null, string? key = AppFixture.AdminKey)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        return await app.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_saved_jwt_goes_to_the_website_api_as_bearer_and_deleting_it_restores_the_settings_key()
    {
        app.ClearFaults();
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Post, "/api/config/token", new { token = FakeGeminigen.Jwt })).StatusCode);
        var before = app.Geminigen.Requests.Count;

        var json = await app.GenerateAsync(new { prompt = "via the website", model = "grok" });

        var sent = app.Geminigen.Requests.Skip(before).ToList();
        Assert.Equal("/api/imagen/grok", sent[0].Path);
        Assert.Equal("Bearer " + FakeGeminigen.Jwt, sent[0].Headers["Authorization"]);
        Assert.All(sent.Skip(1), r => Assert.StartsWith("/api/history/", r.Path));
        Assert.Equal("***", json.GetProperty("apiDebug").GetProperty("requestHeaders").GetProperty("Authorization").GetString());

        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Delete, "/api/config/token")).StatusCode);
        before = app.Geminigen.Requests.Count;
        await app.GenerateAsync(new { prompt = "via the public api", model = "grok" });
        Assert.Equal("/uapi/v1/imagen/grok", app.Geminigen.Requests.Skip(before).First().Path);
    }

    [Fact]
    public async Task Each_provider_has_its_own_token_endpoints()
    {
        app.ClearFaults();
        var status = await (await AdminAsync(HttpMethod.Get, "/api/config/providers/siliconflow/token")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(status.GetProperty("configured").GetBoolean()); // from app settings
        Assert.EndsWith(FakeSiliconFlow.Key[^4..], status.GetProperty("token").GetString());
        Assert.DoesNotContain(FakeSiliconFlow.Key, status.GetRawText());

        // The name in any case, as the route's own words: the same provider's token.
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Post, "/api/config/providers/SiliconFlow/token", new { token = "sk-wrong-key-000" })).StatusCode);
        var rejected = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "wrong key", model = "Qwen/Qwen-Image" });
        await GenerateImageTests.AssertKioaiError(rejected, HttpStatusCode.BadGateway, "upstream_unauthorized");

        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(HttpMethod.Delete, "/api/config/providers/siliconflow/token")).StatusCode);
        await app.GenerateAsync(new { prompt = "right key again", model = "Qwen/Qwen-Image" });
    }

    [Fact]
    public async Task Provider_token_endpoints_refuse_unknown_providers_bad_tokens_and_missing_keys()
    {
        var unknown = await GenerateImageTests.AssertKioaiError(await AdminAsync(HttpMethod.Get, "/api/config/providers/nope/token"), HttpStatusCode.NotFound, "not_found");
        Assert.EndsWith("the providers are geminigen, siliconflow, openai.", unknown.GetProperty("message").GetString());
        // Without the admin key nothing is told, not even which providers there are.
        await GenerateImageTests.AssertKioaiError(await AdminAsync(HttpMethod.Get, "/api/config/providers/nope/token", key: null), HttpStatusCode.Unauthorized, "unauthorized");
        await GenerateImageTests.AssertKioaiError(await AdminAsync(HttpMethod.Post, "/api/config/providers/openai/token", new { token = " " }),
            HttpStatusCode.BadRequest, "missing_token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await AdminAsync(HttpMethod.Get, "/api/config/providers/openai/token", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AdminAsync(HttpMethod.Delete, "/api/config/providers/openai/token", key: "wrong")).StatusCode);
    }

    [Fact]
    public async Task No_token_or_key_appears_in_logs_api_debug_or_responses()
    {
        app.ClearFaults();
        var answers = new List<string>();
        foreach (var model in new[] { "grok", "imagen-4", "Kwai-Kolors/Kolors", "gpt-image-1", "dall-e-3" })
            answers.Add((await app.GenerateAsync(new { prompt = $"secret check {model}", model })).GetRawText());
        app.OpenAi.Fail("/v1/images/generations", Fault.BadRequest, times: 1);
        answers.Add(await (await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "error path", model = "gpt-image-1" })).Content.ReadAsStringAsync());
        answers.Add(await app.Client.GetStringAsync("/api/images/history?limit=100"));

        var secrets = new[] { FakeGeminigen.ApiKey, FakeGeminigen.Jwt, FakeSiliconFlow.Key, FakeOpenAi.Key, AppFixture.AdminKey };
        var logs = string.Join('\n', app.Logs);
        Assert.NotEmpty(app.Logs);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, logs);
            Assert.All(answers, answer => Assert.DoesNotContain(secret, answer));
        }
    }
}

/// <summary>The provider fixture with the offline renderer on and geminigen's token only saved through the API.</summary>
public sealed class SavedTokenAndRendererFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Generation:OfflineRenderer", "true"), ("Providers:Geminigen:Token", ""));
}

public sealed class TokenRemovedMidJobTests(SavedTokenAndRendererFixture app) : IClassFixture<SavedTokenAndRendererFixture>
{
    [Fact]
    public void The_start_says_which_providers_have_a_token_in_the_settings_and_that_the_offline_renderer_is_on()
    {
        var summary = Assert.Single(app.Logs, line => line.Contains("Provider tokens in the app settings:"));
        Assert.Contains("Provider tokens in the app settings: siliconflow, openai; without one there: geminigen", summary);
        Assert.Contains("Offline renderer: on", summary);
    }

    [Fact]
    public async Task A_token_removed_while_its_task_runs_ends_the_job_as_token_not_configured_not_in_the_offline_renderer()
    {
        async Task<HttpStatusCode> TokenAsync(HttpMethod method, object? body = null)
        {
            var request = new HttpRequestMessage(method, "/api/config/token") { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Add("X-Admin-Key", AppFixture.AdminKey);
            return (await app.Client.SendAsync(request)).StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, await TokenAsync(HttpMethod.Post, new { token = FakeGeminigen.ApiKey }));
        app.Geminigen.Hold = true;
        try
        {
            var submitted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "token goes away", model = "grok" });
            var checks = app.Geminigen.CountOf("/uapi/v1/history/");
            await Eventually.HoldsAsync(() => Task.FromResult(app.Geminigen.CountOf("/uapi/v1/history/") > checks)); // its task is being checked
            Assert.Equal(HttpStatusCode.OK, await TokenAsync(HttpMethod.Delete));
            app.Geminigen.Hold = false;

            var job = await JobsApiTests.PollAsync(app.Client, submitted.Headers.Location!.AbsolutePath);

            Assert.Equal("failed", job.GetProperty("status").GetString()); // was: 4 attempts at a check the offline renderer cannot make
            Assert.Contains("The token for grok was removed while the job ran", job.GetProperty("error").GetString());
        }
        finally
        {
            app.Geminigen.Hold = false;
        }
    }
}

/// <summary>The offline renderer stands in only when no model has a token: it is never a fallback that hides a failing upstream.</summary>
public sealed class RendererBesideTokensTests(SavedTokenAndRendererFixture app) : IClassFixture<SavedTokenAndRendererFixture>
{
    [Fact]
    public async Task A_failing_upstream_with_a_token_answers_its_error_not_an_offline_image()
    {
        app.ClearFaults();
        app.OpenAi.Fail("/v1/images/generations", Fault.ServerError);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "no stand-in", model = "gpt-image-1" });

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadGateway, "upstream_error");
    }
}

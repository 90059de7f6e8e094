using System.Text.Json.Nodes;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>The OpenAI fake refuses what OpenAI's images API refuses, with a 400 in OpenAI's error shape, never a 500.</summary>
public sealed class FakeOpenAiTests : FakeUpstreamTests<FakeOpenAi>
{
    static JsonObject Valid(string model = "gpt-image-1") => new() { ["model"] = model, ["prompt"] = "a heron", ["n"] = 1, ["size"] = "1024x1024" };

    [Theory]
    [InlineData("gpt-image-1", "quality", "\"high\"")]
    [InlineData("gpt-image-1-mini", "output_format", "\"webp\"")]
    [InlineData("dall-e-3", "response_format", "\"url\"")]
    [InlineData("dall-e-3", "style", "\"natural\"")]
    [InlineData("dall-e-2", "response_format", "\"b64_json\"")]
    public async Task A_request_the_model_takes_gets_an_image(string model, string field, string json)
    {
        var body = Valid(model);
        body[field] = JsonNode.Parse(json);

        var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("a heron", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("data")[0].GetProperty("revised_prompt").GetString());
    }

    [Theory]
    [InlineData("gpt-image-1", "prompt", null, "missing_required_parameter")]
    [InlineData("gpt-image-1", "prompt", "42", "invalid_type")]
    [InlineData("gpt-image-1", "response_format", "\"url\"", "unknown_parameter")] // GPT image models answer in Base64 only
    [InlineData("gpt-image-1", "response_format", "\"b64_json\"", "unknown_parameter")]
    [InlineData("gpt-image-1", "style", "\"vivid\"", "unknown_parameter")]
    [InlineData("gpt-image-1", "seed", "7", "unknown_parameter")]
    [InlineData("gpt-image-1", "size", "\"1792x1024\"", "invalid_value")]
    [InlineData("gpt-image-1", "quality", "\"hd\"", "invalid_value")]
    [InlineData("gpt-image-1", "n", "0", "integer_below_min_value")]
    [InlineData("gpt-image-1", "n", "11", "integer_above_max_value")]
    [InlineData("gpt-image-1", "n", "\"1\"", "invalid_type")]
    [InlineData("dall-e-3", "n", "2", "integer_above_max_value")]
    [InlineData("dall-e-3", "size", "\"1536x1024\"", "invalid_value")]
    [InlineData("dall-e-3", "response_format", "\"png\"", "invalid_value")]
    [InlineData("dall-e-2", "quality", "\"hd\"", "invalid_value")]
    [InlineData("gpt-image-9", "model", "\"gpt-image-9\"", "invalid_value")]
    public async Task A_parameter_the_model_does_not_take_is_a_400_in_openais_error_shape(string model, string field, string? json, string code)
    {
        var body = Valid(model);
        if (json is null) body.Remove(field);
        else body[field] = JsonNode.Parse(json);

        var error = (await RefusalAsync(await PostAsync(body))).GetProperty("error");

        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(field, error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("gpt-image-1", 32000)]
    [InlineData("dall-e-3", 4000)]
    [InlineData("dall-e-2", 1000)]
    public async Task A_prompt_longer_than_the_models_limit_is_a_400(string model, int limit)
    {
        var body = Valid(model);
        body["prompt"] = new string('p', limit);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(body)).StatusCode);

        body["prompt"] = new string('p', limit + 1);
        var error = (await RefusalAsync(await PostAsync(body))).GetProperty("error");

        Assert.Equal(("string_above_max_length", "prompt"), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
    }

    [Fact]
    public async Task Json_sent_as_text_or_no_json_object_is_a_400_not_a_500()
    {
        foreach (var content in new[] { JsonAsText(Valid()), new StringContent("[1, 2]", System.Text.Encoding.UTF8, "application/json"),
                     new StringContent("{\"prompt\": ", System.Text.Encoding.UTF8, "application/json") })
        {
            var error = (await RefusalAsync(await PostAsync("/v1/images/generations", content, Bearer))).GetProperty("error");
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Contains("could not parse the JSON body", error.GetProperty("message").GetString());
        }
    }

    [Theory]
    [InlineData(Fault.TaskGone)]
    [InlineData(Fault.GeminiRateLimited)]
    [InlineData(Fault.ExpiredUrl)] // GPT image models answer in Base64: no URL to expire
    public void A_fault_the_fake_does_not_show_is_refused_when_asked_for(Fault fault) => AssertRefused(Path, fault);

    [Fact]
    public async Task Bad_credentials_are_a_401_invalid_api_key()
    {
        Fake.Fail(Path, Fault.BadCredentials);

        var error = (await RefusalAsync(await PostAsync(Valid()), HttpStatusCode.Unauthorized)).GetProperty("error");

        Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_body_naming_a_member_twice_is_a_400_in_openais_error_shape()
    {
        var error = (await RefusalAsync(await PostAsync(Path, JsonNamingTwice(Valid(), "prompt"), Bearer))).GetProperty("error");

        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Contains("prompt", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(Fault.ServerError, HttpStatusCode.InternalServerError)]
    [InlineData(Fault.ContentFiltered, HttpStatusCode.BadRequest)]
    public async Task A_fault_comes_after_the_request_is_checked_and_waits_for_one_the_fake_takes(Fault fault, HttpStatusCode status)
    {
        var refused = await AssertFaultWaitsForARequestTakenAsync(Path, Bearer, Valid(), "prompt", fault, status);

        Assert.Equal("missing_required_parameter", refused.GetProperty("error").GetProperty("code").GetString());
    }

    const string Path = "/v1/images/generations";

    static readonly (string, string) Bearer = ("Authorization", "Bearer " + FakeOpenAi.Key);

    Task<HttpResponseMessage> PostAsync(JsonObject body) => PostAsync(Path, Json(body), Bearer);
}

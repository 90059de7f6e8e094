using System.Text.Json.Nodes;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>The SiliconFlow fake refuses what its contract refuses, so that a client that drops a required field fails its tests.</summary>
public sealed class FakeSiliconFlowTests : FakeUpstreamTests<FakeSiliconFlow>
{
    static JsonObject Valid() => new()
    {
        ["model"] = "Kwai-Kolors/Kolors", ["prompt"] = "a heron", ["image_size"] = "1024x1024", ["batch_size"] = 1,
        ["num_inference_steps"] = 20, ["guidance_scale"] = 7.5,
    };

    [Theory]
    [InlineData("model", "\"Qwen/Qwen-Image\"", "image_size", "\"1328x1328\"")]
    [InlineData("model", "\"black-forest-labs/FLUX.1-schnell\"", "image_size", "\"512x768\"")]
    [InlineData("image", "\"https://example.com/reference.png\"", "seed", "9999999999")]
    [InlineData("image", "\"data:image/png;base64,iVBORw0KGgo=\"", "negative_prompt", "\"blur\"")]
    [InlineData("unlisted_field", "1", "guidance_scale", "20")]
    public async Task A_request_with_every_required_field_in_range_gets_an_image_url(string field, string json, string other, string otherJson)
    {
        var body = Valid();
        (body[field], body[other]) = (JsonNode.Parse(json), JsonNode.Parse(otherJson));

        var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(Fake.BaseUrl, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images")[0].GetProperty("url").GetString());
    }

    [Theory]
    [InlineData("num_inference_steps", null)]
    [InlineData("guidance_scale", null)]
    [InlineData("prompt", null)]
    [InlineData("num_inference_steps", "0")]
    [InlineData("num_inference_steps", "101")]
    [InlineData("num_inference_steps", "2.5")]
    [InlineData("num_inference_steps", "\"20\"")]
    [InlineData("guidance_scale", "-0.5")]
    [InlineData("guidance_scale", "20.5")]
    [InlineData("batch_size", "5")]
    [InlineData("seed", "10000000000")]
    [InlineData("image_size", "\"1328x1328\"")] // Qwen-Image's, not Kolors's
    [InlineData("image_size", "\"others\"")]
    [InlineData("image", "\"iVBORw0KGgo=\"")] // Base64 without its data URL
    [InlineData("image", "\"data:image/png;base64,%%%\"")]
    [InlineData("image", "\"ftp://example.com/reference.png\"")]
    public async Task A_missing_or_out_of_range_parameter_is_a_400_in_siliconflows_error_shape(string field, string? json)
    {
        var body = Valid();
        if (json is null) body.Remove(field);
        else body[field] = JsonNode.Parse(json);

        var error = await RefusalAsync(await PostAsync(body));

        Assert.Equal(FakeSiliconFlow.InvalidParameterCode, error.GetProperty("code").GetInt32());
        Assert.Contains(field, error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("data").ValueKind);
    }

    [Fact]
    public async Task A_model_the_docs_do_not_name_is_a_400_model_does_not_exist()
    {
        var body = Valid();
        body["model"] = "Kwai-Kolors/Kolors-XL";

        var error = await RefusalAsync(await PostAsync(body));

        Assert.Equal(FakeSiliconFlow.UnknownModelCode, error.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_body_that_is_not_sent_as_json_is_a_400_in_siliconflows_error_shape()
    {
        var error = await RefusalAsync(await PostAsync(Path, JsonAsText(Valid()), Bearer));

        Assert.Equal(FakeSiliconFlow.InvalidParameterCode, error.GetProperty("code").GetInt32());
        Assert.Contains("application/json", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(Fault.TaskGone)]
    [InlineData(Fault.PaymentRequired)] // SiliconFlow's balance is a 403 (NoCredit)
    [InlineData(Fault.ModerationBlocked)]
    [InlineData(Fault.ConcurrencyLimit)]
    [InlineData(Fault.EchoesKey)]
    [InlineData(Fault.BothImageForms)]
    public void A_fault_the_fake_does_not_show_is_refused_when_asked_for(Fault fault) => AssertRefused(Path, fault);

    [Fact]
    public async Task A_body_naming_a_member_twice_is_a_400_in_siliconflows_error_shape()
    {
        var error = await RefusalAsync(await PostAsync(Path, JsonNamingTwice(Valid(), "prompt"), Bearer));

        Assert.Equal(FakeSiliconFlow.InvalidParameterCode, error.GetProperty("code").GetInt32());
        Assert.Contains("prompt", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(Fault.ServerError, HttpStatusCode.InternalServerError)]
    [InlineData(Fault.NoCredit, HttpStatusCode.Forbidden)]
    public async Task A_fault_comes_after_the_request_is_checked_and_waits_for_one_the_fake_takes(Fault fault, HttpStatusCode status)
    {
        var refused = await AssertFaultWaitsForARequestTakenAsync(Path, Bearer, Valid(), "num_inference_steps", fault, status);

        Assert.Equal(FakeSiliconFlow.InvalidParameterCode, refused.GetProperty("code").GetInt32());
    }

    const string Path = "/v1/images/generations";

    static readonly (string, string) Bearer = ("Authorization", "Bearer " + FakeSiliconFlow.Key);

    Task<HttpResponseMessage> PostAsync(JsonObject body) => PostAsync(Path, Json(body), Bearer);
}

using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>The SiliconFlow fake refuses what its contract refuses, so that a client that drops a required field fails its tests.</summary>
public sealed class FakeSiliconFlowTests : IAsyncLifetime
{
    readonly FakeSiliconFlow _fake = new();
    readonly HttpClient _client = new();

    static JsonObject Valid() => new()
    {
        ["model"] = "Kwai-Kolors/Kolors", ["prompt"] = "a heron", ["image_size"] = "1024x1024", ["batch_size"] = 1,
        ["num_inference_steps"] = 20, ["guidance_scale"] = 7.5,
    };

    [Fact]
    public async Task A_request_with_every_required_field_in_range_gets_an_image_url()
    {
        var response = await PostAsync(Valid());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(_fake.BaseUrl, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images")[0].GetProperty("url").GetString());
    }

    [Theory]
    [InlineData("num_inference_steps", null)]
    [InlineData("guidance_scale", null)]
    [InlineData("num_inference_steps", "0")]
    [InlineData("num_inference_steps", "101")]
    [InlineData("num_inference_steps", "2.5")]
    [InlineData("num_inference_steps", "\"20\"")]
    [InlineData("guidance_scale", "-0.5")]
    [InlineData("guidance_scale", "20.5")]
    [InlineData("batch_size", "5")]
    [InlineData("seed", "10000000000")]
    public async Task A_missing_or_out_of_range_parameter_is_a_400_in_siliconflows_error_shape(string field, string? json)
    {
        var body = Valid();
        if (json is null) body.Remove(field);
        else body[field] = JsonNode.Parse(json);

        var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(FakeSiliconFlow.InvalidParameterCode, error.GetProperty("code").GetInt32());
        Assert.Contains(field, error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("data").ValueKind);
    }

    Task<HttpResponseMessage> PostAsync(JsonObject body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"{_fake.BaseUrl}/v1/images/generations") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FakeSiliconFlow.Key);
        return _client.SendAsync(request);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _fake.DisposeAsync();
    }
}

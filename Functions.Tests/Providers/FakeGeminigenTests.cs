using System.Net.Http.Headers;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>The geminigen fake takes only multipart submits to the documented endpoints with the documented values, like geminigen.</summary>
public sealed class FakeGeminigenTests : FakeUpstreamTests<FakeGeminigen>
{
    static readonly (string, string) ApiKey = ("x-api-key", FakeGeminigen.ApiKey);

    static MultipartFormDataContent Form(params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    static MultipartFormDataContent WithFile(MultipartFormDataContent form, byte[] bytes, string contentType)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "files", "reference");
        return form;
    }

    /// <summary>A generate_image submit with every documented field, <paramref name="field"/> set to <paramref name="value"/>.</summary>
    static MultipartFormDataContent Imagen(string? field = null, string? value = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["prompt"] = "a heron", ["model"] = "nano-banana-pro", ["aspect_ratio"] = "3:4", ["resolution"] = "2K", ["output_format"] = "png", ["style"] = "Watercolor",
        };
        if (field is not null) fields[field] = value!;
        return Form([.. fields.Select(f => (f.Key, f.Value))]);
    }

    [Theory]
    [InlineData("/uapi/v1/generate_image", null, null)]
    [InlineData("/uapi/v1/generate_image", "model", "imagen-flash")] // an older name, still taken
    [InlineData("/uapi/v1/imagen/grok", "num_result", "8")]
    [InlineData("/uapi/v1/meta_ai/generate", "orientation", "square")]
    [InlineData("/uapi/v1/generate_image", "ref_history", "any-uuid")] // undocumented values pass
    public async Task A_documented_submit_answers_a_record_in_status_1(string path, string? field, string? value)
    {
        var form = path.EndsWith("generate_image") ? Imagen(field, value) : Form(("prompt", "a heron"), (field!, value!));

        var response = await PostAsync(path, form, ApiKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task The_website_api_takes_the_same_submit_with_a_bearer_jwt()
    {
        var response = await PostAsync("/api/imagen/grok", Form(("prompt", "a heron"), ("orientation", "portrait")), ("Authorization", "Bearer " + FakeGeminigen.Jwt));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/uapi/v1/generate_image", "model", "imagen-3")]
    [InlineData("/uapi/v1/generate_image", "aspect_ratio", "2:3")]
    [InlineData("/uapi/v1/generate_image", "resolution", "8K")]
    [InlineData("/uapi/v1/generate_image", "output_format", "webp")]
    [InlineData("/uapi/v1/generate_image", "style", "realistic")]
    [InlineData("/uapi/v1/imagen/grok", "orientation", "3:4")]
    [InlineData("/uapi/v1/imagen/grok", "num_result", "9")]
    [InlineData("/uapi/v1/imagen/grok", "num_result", "0")]
    [InlineData("/uapi/v1/meta_ai/generate", "num_result", "5")]
    public async Task An_undocumented_value_is_a_400_in_geminigens_error_shape(string path, string field, string value)
    {
        var form = path.EndsWith("generate_image") ? Imagen(field, value) : Form(("prompt", "a heron"), (field, value));

        var error = await ErrorAsync(await PostAsync(path, form, ApiKey));

        Assert.Equal(FakeGeminigen.InvalidFieldCode, error.GetProperty("error_code").GetString());
        Assert.Contains(field, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_submit_without_a_multipart_prompt_is_a_400()
    {
        var json = new StringContent("{\"prompt\": \"a heron\"}", System.Text.Encoding.UTF8, "application/json");
        foreach (var content in new HttpContent[] { json, new ByteArrayContent([]), Form(("model", "imagen-4")), Form(("prompt", "")) })
        {
            var error = await ErrorAsync(await PostAsync("/uapi/v1/generate_image", content, ApiKey));
            Assert.Equal(FakeGeminigen.InvalidFieldCode, error.GetProperty("error_code").GetString());
        }
    }

    [Theory]
    [InlineData("/uapi/v1/imagen/other")]
    [InlineData("/uapi/v1/history")]
    [InlineData("/api/generate_video")]
    public async Task An_endpoint_the_docs_do_not_list_is_a_404(string path)
    {
        var response = await PostAsync(path, Form(("prompt", "a heron")), path.StartsWith("/api") ? ("Authorization", "Bearer " + FakeGeminigen.Jwt) : ApiKey);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_reference_that_is_no_image_is_file_type_not_allowed()
    {
        var error = await ErrorAsync(await PostAsync("/uapi/v1/imagen/grok", WithFile(Form(("prompt", "like this")), "hello"u8.ToArray(), "text/plain"), ApiKey));

        Assert.Equal("FILE_TYPE_NOT_ALLOWED", error.GetProperty("error_code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/uapi/v1/imagen/grok", WithFile(Form(("prompt", "like this")), FakeUpstream.Image, "image/png"), ApiKey)).StatusCode);
    }

    [Fact]
    public async Task A_limit_set_on_the_fake_refuses_longer_prompts_and_larger_files_with_geminigens_codes()
    {
        Fake.MaxPromptLength = 10;
        Fake.MaxFileBytes = FakeUpstream.Image.Length - 1;

        var text = await ErrorAsync(await PostAsync("/uapi/v1/imagen/grok", Form(("prompt", new string('p', 11))), ApiKey));
        var file = await ErrorAsync(await PostAsync("/uapi/v1/imagen/grok", WithFile(Form(("prompt", "like this")), FakeUpstream.Image, "image/png"), ApiKey));

        Assert.Equal("TEXT_TOO_LONG", text.GetProperty("error_code").GetString());
        Assert.Equal("MAXIMUM_FILE_SIZE_EXCEED", file.GetProperty("error_code").GetString());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/uapi/v1/imagen/grok", Form(("prompt", new string('p', 10))), ApiKey)).StatusCode);
    }

    /// <summary>geminigen's {"detail": {"error_code", "message"}} of a 400.</summary>
    [Theory]
    [InlineData("x-api-key", "", "API_KEY_REQUIRED")]
    [InlineData("x-api-key", "not-the-key", "API_KEY_NOT_FOUND")]
    [InlineData("Authorization", "Bearer " + FakeGeminigen.ApiKey, "API_KEY_REQUIRED")] // the public API takes its key in x-api-key only
    public async Task A_submit_without_its_key_or_with_an_unknown_one_is_a_401_naming_which(string header, string value, string code)
    {
        var error = (await RefusalAsync(await PostAsync("/uapi/v1/imagen/grok", Form(("prompt", "a heron")), (header, value)), HttpStatusCode.Unauthorized))
            .GetProperty("detail");

        Assert.Equal(code, error.GetProperty("error_code").GetString());
    }

    static async Task<JsonElement> ErrorAsync(HttpResponseMessage response) => (await RefusalAsync(response)).GetProperty("detail");
}

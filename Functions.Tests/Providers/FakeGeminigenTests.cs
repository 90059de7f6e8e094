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

    [Theory]
    [InlineData(Grok, Fault.PaymentRequired)] // geminigen's lack of credit is a 403 (NoCredit)
    [InlineData(Grok, Fault.Forbidden)]
    [InlineData(Grok, Fault.EchoesKey)]
    [InlineData(Grok, Fault.Slow)]
    [InlineData(Grok, Fault.TaskGone)] // a check's fault
    [InlineData("/uapi/v1/", Fault.TaskGone)] // the submits under the prefix would take it and not show it
    [InlineData("/uapi/v1/history/", Fault.ContentFiltered)] // a submit's fault: the task it starts fails
    [InlineData("/uapi/v1/history/", Fault.BadCredentials)]
    [InlineData("/uapi/v1/history/", Fault.GeminiRateLimited)]
    [InlineData("/uapi/v2/", Fault.ServerError)] // no route there
    public void A_fault_the_fake_does_not_show_at_a_path_is_refused_when_asked_for(string path, Fault fault) => AssertRefused(path, fault);

    [Theory]
    [InlineData(Fault.ExpiredUrl, HttpStatusCode.Forbidden, "application/xml")]
    [InlineData(Fault.MislabelledImage, HttpStatusCode.OK, "image/jpeg")]
    public async Task A_submits_image_fault_shows_on_the_finished_tasks_image_url(Fault fault, HttpStatusCode status, string contentType)
    {
        Fake.Fail(Grok, fault, times: 1);
        var uuid = await SubmitAsync();

        JsonElement record;
        do record = await (await GetAsync(History + uuid, ApiKey)).Content.ReadFromJsonAsync<JsonElement>();
        while (record.GetProperty("status").GetInt32() == 1);
        using var image = await GetAsync(record.GetProperty("generated_image")[0].GetProperty("image_url").GetString()!);

        Assert.Equal((status, contentType), (image.StatusCode, image.Content.Headers.ContentType?.MediaType));
    }

    [Theory]
    [InlineData(Fault.ServerError, HttpStatusCode.InternalServerError)]
    [InlineData(Fault.NoCredit, HttpStatusCode.Forbidden)]
    public async Task A_fault_comes_after_the_submit_is_checked_and_waits_for_one_the_fake_takes(Fault fault, HttpStatusCode status)
    {
        Fake.Fail(Grok, fault, times: 1);

        var refused = await ErrorAsync(await PostAsync(Grok, Form(("orientation", "square")), ApiKey));
        var faulted = await PostAsync(Grok, Form(("prompt", "a heron")), ApiKey);

        Assert.Equal(FakeGeminigen.InvalidFieldCode, refused.GetProperty("error_code").GetString());
        Assert.Equal(status, faulted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Grok, Form(("prompt", "a heron")), ApiKey)).StatusCode);
    }

    [Fact]
    public async Task A_check_fault_comes_after_the_task_is_found_and_waits_for_one_the_fake_knows()
    {
        Fake.Fail("/uapi/v1/history/", Fault.ServerError, times: 1);

        var unknown = await GetAsync(History + Guid.NewGuid(), ApiKey);
        var faulted = await GetAsync(History + await SubmitAsync(), ApiKey);

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.InternalServerError), (unknown.StatusCode, faulted.StatusCode));
    }

    const string Grok = "/uapi/v1/imagen/grok";
    string History => Fake.BaseUrl + "/uapi/v1/history/";

    /// <summary>Submits a grok task and answers its uuid.</summary>
    async Task<string> SubmitAsync() =>
        (await (await PostAsync(Grok, Form(("prompt", "a heron")), ApiKey)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("uuid").GetString()!;

    static async Task<JsonElement> ErrorAsync(HttpResponseMessage response) => (await RefusalAsync(response)).GetProperty("detail");
}

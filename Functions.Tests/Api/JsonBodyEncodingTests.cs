using System.Net.Http.Headers;
using System.Text;

namespace Functions.Tests.Api;

/// <summary>Every endpoint that reads a JSON body (generate, the token endpoints) refuses text that is not UTF-8 with a 400.</summary>
public sealed class JsonBodyEncodingTests(AppFixture app) : IClassFixture<AppFixture>
{
    public static TheoryData<string> JsonEndpoints => ["/api/images/generate", "/api/config/token", "/api/config/providers/siliconflow/token"];

    static readonly byte[] InvalidUtf8 = [.. "{\"prompt\":\"caf"u8, 0xC3, 0x28, .. "\",\"token\":\"abc\"}"u8];

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task Invalid_utf8_answers_400_invalid_json(string path)
    {
        var error = await GenerateImageTests.AssertKioaiError(await PostAsync(path, InvalidUtf8), HttpStatusCode.BadRequest, "invalid_json");

        Assert.Contains("UTF-8", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("/api/images/generate", """{"prompt":"\ud800"}""", "at $.prompt")]
    [InlineData("/api/images/generate", """{"prompt":"a\udc00b"}""", "at $.prompt")]
    [InlineData("/api/images/generate", """{"prompt":"x","\ud800":1}""", "property name")]
    [InlineData("/api/images/generate", """{"prompt":"x","extra":["ok","\udbff"]}""", "at $.extra[1]")]
    [InlineData("/api/config/token", """{"token":"abc\ud800def"}""", "at $.token")]
    [InlineData("/api/config/providers/siliconflow/token", """{"token":"\udfff"}""", "at $.token")]
    public async Task A_lone_surrogate_escape_answers_400_invalid_json_that_says_where(string path, string body, string where)
    {
        var error = await GenerateImageTests.AssertKioaiError(await PostAsync(path, Encoding.UTF8.GetBytes(body)), HttpStatusCode.BadRequest, "invalid_json");

        Assert.Contains("surrogate", error.GetProperty("message").GetString());
        Assert.Contains(where, error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("/api/images/generate", """{"prompt":"harmless","prompt":"other"}""")]
    [InlineData("/api/images/generate", """{"prompt":"x","model":"grok","model":"imagen-4"}""")]
    [InlineData("/api/config/token", """{"token":"abcdef123456","token":"ghijkl789012"}""")]
    public async Task A_name_twice_in_one_object_answers_400_invalid_json(string path, string body)
    {
        var error = await GenerateImageTests.AssertKioaiError(await PostAsync(path, Encoding.UTF8.GetBytes(body)), HttpStatusCode.BadRequest, "invalid_json");

        Assert.Contains("uplicate", error.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(31, HttpStatusCode.OK)] // with the body's own object, 32 levels
    [InlineData(32, HttpStatusCode.BadRequest)]
    public async Task A_body_nested_deeper_than_32_levels_answers_400_invalid_json(int arrays, HttpStatusCode expected)
    {
        var body = $$"""{"prompt":"deep","extra":{{new string('[', arrays)}}{{new string(']', arrays)}}}""";

        var response = await PostAsync("/api/images/generate", Encoding.UTF8.GetBytes(body));

        if (expected == HttpStatusCode.OK) Assert.Equal(expected, response.StatusCode);
        else Assert.Contains("depth of 32", (await GenerateImageTests.AssertKioaiError(response, expected, "invalid_json")).GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("/api/images/generate", "text/plain")]
    [InlineData("/api/images/generate", "application/x-www-form-urlencoded")]
    [InlineData("/api/images/generate", "multipart/form-data; boundary=x")]
    [InlineData("/api/config/token", "text/plain; charset=utf-8")]
    [InlineData("/api/images/generate", "text/x+json")] // a +json suffix counts under application/ only
    public async Task A_body_sent_as_another_media_type_than_json_answers_415(string path, string contentType)
    {
        await AssertRefusedAsync(path, """{"prompt":"x","token":"abcdef123456"}"""u8.ToArray(), contentType,
            HttpStatusCode.UnsupportedMediaType, "unsupported_content_type", "application/json");
    }

    [Theory]
    [InlineData(null, HttpStatusCode.UnsupportedMediaType)] // a page can send an untyped body cross-site without a preflight
    [InlineData("application/vnd.kioai+json", HttpStatusCode.OK)]
    [InlineData("Application/JSON", HttpStatusCode.OK)] // media types are read in any case
    public async Task A_json_body_needs_a_json_content_type(string? contentType, HttpStatusCode expected)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = new ByteArrayContent("""{"prompt":"untyped"}"""u8.ToArray()) };
        if (contentType is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        Assert.Equal(expected, (await app.Client.SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("/api/images/generate", "iso-8859-1")]
    [InlineData("/api/images/generate", "utf-16")]
    [InlineData("/api/config/token", "windows-1252")]
    [InlineData("/api/config/providers/siliconflow/token", "utf-16")]
    public async Task A_charset_other_than_utf8_answers_400_unsupported_charset(string path, string charset)
    {
        var body = Encoding.GetEncoding(charset == "utf-16" ? "utf-16" : "iso-8859-1").GetBytes("""{"prompt":"café","token":"abcdef123456"}""");

        await AssertRefusedAsync(path, body, $"application/json; charset={charset}", HttpStatusCode.BadRequest, "unsupported_charset", charset);
    }

    [Theory]
    [InlineData("application/json; charset=")]
    [InlineData("application/json; charset=\"\"")]
    public async Task An_empty_charset_answers_400_unsupported_charset(string contentType)
    {
        await AssertRefusedAsync("/api/images/generate", """{"prompt":"café"}"""u8.ToArray(), contentType, HttpStatusCode.BadRequest, "unsupported_charset", "charset=.");
    }

    [Theory]
    [InlineData("application/json; charset=utf-8; charset=iso-8859-1")]
    [InlineData("application/json; charset=iso-8859-1; CHARSET=utf-8")]
    [InlineData("application/json; charset=utf-8; charset=utf-8")]
    public async Task A_charset_declared_twice_answers_400_unsupported_charset(string contentType)
    {
        await AssertRefusedAsync("/api/images/generate", """{"prompt":"café"}"""u8.ToArray(), contentType, HttpStatusCode.BadRequest, "unsupported_charset", "more than once");
    }

    [Theory]
    [InlineData("/api/images/generate", "gzip")]
    [InlineData("/api/config/token", "br")]
    [InlineData("/api/config/providers/siliconflow/token", "identity, deflate")]
    public async Task A_compressed_body_answers_400_unsupported_content_encoding(string path, string coding)
    {
        var body = """{"prompt":"x","token":"abcdef123456"}"""u8.ToArray();

        var error = await GenerateImageTests.AssertKioaiError(await PostAsync(path, body, contentEncoding: coding),
            HttpStatusCode.BadRequest, "unsupported_content_encoding");

        Assert.Contains(coding.Split(",")[^1].Trim(), error.GetProperty("message").GetString()); // the coding refused
    }

    [Fact]
    public async Task A_json_body_declared_with_the_utf8_alias_is_fine()
    {
        // "utf8" is the alias some clients write.
        var response = await PostAsync("/api/images/generate", Encoding.UTF8.GetBytes("""{"prompt":"alias"}"""), "application/json; charset=utf8");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("IDENTITY")] // content codings are read in any case
    public async Task An_identity_content_encoding_is_no_compression(string coding)
    {
        var response = await PostAsync("/api/images/generate", Encoding.UTF8.GetBytes("""{"prompt":"as sent"}"""), contentEncoding: coding);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Utf8_however_spelled_and_escaped_surrogate_pairs_are_fine()
    {
        var response = await PostAsync("/api/images/generate", Encoding.UTF8.GetBytes("""{"prompt":"a fox \ud83e\udd8a, café"}"""), "application/json; charset=\"UTF-8\"");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/api/images/generate", Encoding.UTF8.GetBytes("""{"prompt":"plain"}"""), "application/json")).StatusCode);
    }

    [Fact]
    public async Task A_byte_order_mark_before_the_json_is_ignored()
    {
        var response = await PostAsync("/api/images/generate", "\uFEFF{\"prompt\":\"with a mark\"}"u8.ToArray());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("with a mark", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("prompt").GetString());
    }

    [Theory]
    [MemberData(nameof(JsonEndpoints))]
    public async Task A_byte_order_mark_alone_is_an_empty_body(string path)
    {
        var error = await GenerateImageTests.AssertKioaiError(await PostAsync(path, "\uFEFF"u8.ToArray()), HttpStatusCode.BadRequest, "invalid_json");

        Assert.Contains("empty", error.GetProperty("message").GetString());
    }

    /// <summary>A body refused for its Content-Type: the status, the kioai error code, and a message that names the problem.</summary>
    async Task AssertRefusedAsync(string path, byte[] body, string contentType, HttpStatusCode status, string code, string mentioned)
    {
        var error = await GenerateImageTests.AssertKioaiError(await PostAsync(path, body, contentType), status, code);
        Assert.Contains(mentioned, error.GetProperty("message").GetString());
    }

    Task<HttpResponseMessage> PostAsync(string path, byte[] body, string contentType = "application/json; charset=utf-8", string? contentEncoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType); // as sent, even where HttpClient would refuse it
        if (contentEncoding is not null) request.Content.Headers.TryAddWithoutValidation("Content-Encoding", contentEncoding);
        request.Headers.Add("X-Admin-Key", AppFixture.AdminKey);
        return app.Client.SendAsync(request);
    }
}

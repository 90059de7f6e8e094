using System.Text.Json.Nodes;
using Functions.Generation;
using Functions.Hosting;
using Functions.Tokens;

namespace Functions.Tests.Unit;

public sealed class RedactionTests
{
    [Fact]
    public void Credentials_in_headers_body_and_query_become_stars()
    {
        var debug = ApiDebugRedaction.Create("https://up.example/v1/gen?key=sekrit&size=1",
            "POST",
            [new("Authorization", "Bearer sk-live-123"), new("x-api-key", "k-456"), new("Content-Type", "application/json")],
            new JsonObject { ["prompt"] = "hi", ["api_key"] = "k-789", ["nested"] = new JsonObject { ["access_token"] = "t-000" } },
            200, new JsonObject(), TimeSpan.FromMilliseconds(12.34));

        var all = debug.RequestUrl + string.Join(",", debug.RequestHeaders.Values) + debug.RequestBody.ToJsonString();
        Assert.DoesNotContain("sekrit", all);
        Assert.DoesNotContain("sk-live-123", all);
        Assert.DoesNotContain("k-456", all);
        Assert.DoesNotContain("k-789", all);
        Assert.DoesNotContain("t-000", all);
        Assert.Equal("***", debug.RequestHeaders["Authorization"]);
        Assert.Equal("application/json", debug.RequestHeaders["Content-Type"]);
        Assert.Equal("hi", (string)debug.RequestBody["prompt"]!);
        Assert.Equal(12.3, debug.DurationMs);
    }

    [Fact]
    public void Token_counts_stay_numbers_and_a_string_under_a_tokens_name_is_still_hidden()
    {
        var body = ApiDebugRedaction.Body(JsonNode.Parse("""
            {"usage":{"input_tokens":10,"output_tokens":20,"total_tokens":30},"max_tokens":64,"access_token":12345,"tokens":"sk-live-1"}
            """))!;

        Assert.Equal(10, (int)body["usage"]!["input_tokens"]!);
        Assert.Equal(30, (int)body["usage"]!["total_tokens"]!);
        Assert.Equal(64, (int)body["max_tokens"]!);
        Assert.Equal("***", (string)body["access_token"]!); // a number, but not a count
        Assert.Equal("***", (string)body["tokens"]!);
    }

    [Fact]
    public void A_long_text_is_cut_with_its_length_and_a_prompt_of_4000_emoji_is_shown_whole()
    {
        var prose = string.Concat(Enumerable.Repeat("a lighthouse at dusk. ", 1000)); // 22,000 characters
        var emoji = string.Concat(Enumerable.Repeat("\U0001F3A8", 4000));

        var shown = ApiDebugRedaction.String(prose);

        Assert.Equal(prose[..ApiDebugRedaction.LongestShownString] + $"… ({prose.Length} characters)", shown);
        Assert.Equal(emoji, ApiDebugRedaction.String(emoji));
        Assert.EndsWith("(30000 characters)", ApiDebugRedaction.String("https://cdn.example/" + new string('a', 29_980)));
    }

    [Fact]
    public void A_body_larger_than_apidebug_shows_is_replaced_by_a_note_of_its_size()
    {
        var many = new JsonObject();
        for (var i = 0; i < 2000; i++) many[$"field{i}"] = "twenty characters ok";

        var emoji = string.Concat(Enumerable.Repeat("\U0001F3A8", 4000)); // the longest prompt: 48,000 characters once JSON-escaped

        var debug = ApiDebugRedaction.Create("https://up.example/v1", "POST", [], new JsonObject { ["prompt"] = emoji }, 200, many, TimeSpan.Zero);

        Assert.Equal(emoji, (string)debug.RequestBody["prompt"]!);
        Assert.StartsWith("The body is ", (string)debug.ResponseBody["omitted"]!);
        Assert.True(debug.ResponseBody.ToJsonString().Length < 200);
    }

    [Fact]
    public void A_secret_named_member_is_hidden_whole_whatever_its_value_and_token_usage_details_stay()
    {
        var body = ApiDebugRedaction.Body(JsonNode.Parse("""
            {"session_token":["tok-1"],"client_secret":{"value":"cs-2"},"refresh_tokens":{"value":"rt-3"},"usage":{"input_tokens_details":{"image_tokens":3}}}
            """))!;

        Assert.Equal("***", (string)body["refresh_tokens"]!);
        Assert.Equal("***", (string)body["session_token"]!);
        Assert.Equal("***", (string)body["client_secret"]!);
        Assert.Equal(3, (int)body["usage"]!["input_tokens_details"]!["image_tokens"]!);
    }

    [Fact]
    public void A_percent_encoded_secret_query_name_is_masked_as_its_plain_name_is()
    {
        var debug = ApiDebugRedaction.Create("https://gateway.example/v1/images?api%5Fkey=sekrit-42&Api%4Bey=k&n=1", "POST", [],
            new JsonObject(), 200, new JsonObject(), TimeSpan.Zero);

        Assert.Equal("https://gateway.example/v1/images?api%5Fkey=***&Api%4Bey=***&n=1", debug.RequestUrl);
    }

    [Theory]
    [InlineData("api_key")]
    [InlineData("api-key")]
    [InlineData("access_token")]
    [InlineData("token")]
    [InlineData("client_secret")]
    [InlineData("password")]
    [InlineData("Key")]
    [InlineData("signature")]
    [InlineData("X-Amz-Signature")] // a presigned URL's: whoever has it has the object
    [InlineData("sig")] // an Azure SAS's
    [InlineData("x-goog-api-key")] // Gemini's: "api-key" inside a longer name
    public void A_secret_named_query_parameter_is_masked_and_the_others_kept(string name)
    {
        var debug = ApiDebugRedaction.Create($"https://gateway.example/v1/images/generations?size=1024&{name}=sekrit-42&n=1", "POST", [],
            new JsonObject(), 200, new JsonObject(), TimeSpan.Zero);

        Assert.Equal($"https://gateway.example/v1/images/generations?size=1024&{name}=***&n=1", debug.RequestUrl);
    }

    [Theory]
    [InlineData("http://user:s3cretpw@files.example/x.png?token=abc", "http://***@files.example/x.png?token=***")] // was: the password shown
    [InlineData("ftp://ghp_token@files.example:21/x.png", "ftp://***@files.example:21/x.png")] // a token as the user name
    [InlineData("https://files.example/a@b.png?x=1", "https://files.example/a@b.png?x=1")] // an @ in the path is no user
    [InlineData("https://files.example?u=a@b", "https://files.example?u=a@b")]
    [InlineData("http://evil.example\\@good.example/x.png", "http://evil.example\\@good.example/x.png")] // a backslash ends the host, as Uri reads it
    public void A_urls_user_and_password_are_masked(string url, string shown) => Assert.Equal(shown, ApiDebugRedaction.Url(url));

    [Fact]
    public void A_signed_image_url_in_the_answer_loses_its_signature_as_the_request_url_does()
    {
        var answer = new JsonObject
        {
            ["data"] = new JsonArray(new JsonObject { ["url"] = "https://files.example/img/1.png?se=2026-11-28&sp=r&sig=c2VrcmV0&rscd=inline" }),
            ["images"] = new JsonArray(new JsonObject { ["url"] = "https://s3.example/a.png?X-Amz-Credential=AK&X-Amz-Signature=abc123" }),
        };

        var debug = ApiDebugRedaction.Create("https://gateway.example/v1/images/generations", "POST", [], new JsonObject(), 200, answer, TimeSpan.Zero);

        Assert.Equal("https://files.example/img/1.png?se=2026-11-28&sp=r&sig=***&rscd=inline", (string)debug.ResponseBody["data"]![0]!["url"]!);
        Assert.Equal("https://s3.example/a.png?X-Amz-Credential=AK&X-Amz-Signature=***", (string)debug.ResponseBody["images"]![0]!["url"]!);
    }

    [Fact]
    public void A_prompt_that_happens_to_be_valid_base64_is_shown_as_the_text_it_is()
    {
        var letters = new string('a', 4000);
        var pattern = string.Concat(Enumerable.Repeat("Ab1+", 70));

        var debug = ApiDebugRedaction.Create("https://up.example/v1", "POST", [], new JsonObject { ["prompt"] = letters, ["negative_prompt"] = pattern },
            200, new JsonObject { ["revised_prompt"] = pattern, ["b64_json"] = pattern }, TimeSpan.Zero);

        Assert.Equal(letters, (string)debug.RequestBody["prompt"]!);
        Assert.Equal(pattern, (string)debug.RequestBody["negative_prompt"]!);
        Assert.Equal(pattern, (string)debug.ResponseBody["revised_prompt"]!);
        Assert.Equal("<base64: 210 bytes>", (string)debug.ResponseBody["b64_json"]!); // any other member: a payload
    }

    [Fact]
    public void Base64_payloads_become_their_length()
    {
        var payload = Convert.ToBase64String(new byte[3000]);

        Assert.Equal("<base64: 3000 bytes>", ApiDebugRedaction.String(payload));
        Assert.Equal("<base64: 3000 bytes>", ApiDebugRedaction.String("data:image/png;base64," + payload));
        Assert.Equal("short text", ApiDebugRedaction.String("short text"));
        var prose = string.Join(" ", Enumerable.Repeat("a long prompt with spaces", 20));
        Assert.Equal(prose, ApiDebugRedaction.String(prose));
    }

    [Fact]
    public void A_base64_payload_in_mime_lines_is_noted_as_one_without_them()
    {
        var lines = Convert.ToBase64String(new byte[3000], Base64FormattingOptions.InsertLineBreaks); // 76 characters and CRLF
        var answer = JsonNode.Parse(JsonSerializer.Serialize(new { data = new[] { new { b64_json = lines.Replace("\r\n", "\n") } } }));

        Assert.Equal("<base64: 3000 bytes>", ApiDebugRedaction.String(lines));
        Assert.Equal("<base64: 3000 bytes>", (string)ApiDebugRedaction.Body(answer)!["data"]![0]!["b64_json"]!); // shown as 8 KiB of text before
        var tabbed = string.Join("\t", Enumerable.Repeat("AAAA", 100));
        Assert.NotEqual("<base64: 300 bytes>", ApiDebugRedaction.String(tabbed)); // other white space: text
    }

    [Fact]
    public void Base64_payloads_and_secrets_inside_arrays_are_redacted_too()
    {
        var payload = Convert.ToBase64String(new byte[3000]);

        var body = ApiDebugRedaction.Body(new JsonObject { ["data"] = new JsonArray(new JsonObject { ["b64_json"] = payload, ["api_key"] = "k-1" }) });

        var item = body!["data"]![0]!;
        Assert.Equal(("<base64: 3000 bytes>", "***"), ((string)item["b64_json"]!, (string)item["api_key"]!));
    }

    [Theory]
    [InlineData("AAAA", "<base64: 3000 bytes>")] // straight from the answer's UTF-8
    [InlineData("\\u0041AAA", "<base64: 3000 bytes>")] // with an escape: as a string, the same note
    [InlineData("AA A", null)] // spaced out: text, not a payload (cut as long text)
    public void A_base64_payload_in_a_parsed_answer_is_noted_whether_or_not_it_has_escapes(string firstQuad, string? note)
    {
        var answer = JsonNode.Parse($$"""{"data": [{"b64_json": "{{firstQuad}}{{Convert.ToBase64String(new byte[3000])[4..]}}"}]}""");

        var shown = (string)ApiDebugRedaction.Body(answer)!["data"]![0]!["b64_json"]!;

        if (note is null) Assert.StartsWith("AA A", shown);
        else Assert.Equal(note, shown);
    }

    [Fact]
    public void A_string_is_read_from_its_utf8_only_when_parsed_from_text_without_escapes()
    {
        var parsed = JsonNode.Parse("""{"plain": "abc", "escaped": "a\u0062c", "number": 7}""")!;

        Assert.True(JsonText.TryGetUnescapedUtf8(parsed["plain"], out var utf8));
        Assert.Equal("abc"u8.ToArray(), utf8.ToArray());
        Assert.False(JsonText.TryGetUnescapedUtf8(parsed["escaped"], out _));
        Assert.False(JsonText.TryGetUnescapedUtf8(parsed["number"], out _));
        Assert.False(JsonText.TryGetUnescapedUtf8(JsonValue.Create("abc"), out _)); // built in code: no text behind it
    }

    [Theory]
    [InlineData("abc", "****")]
    [InlineData("abcdefg", "****")] // 7: nothing shows
    [InlineData("abcdefgh", "****gh")] // 8 to 15: two
    [InlineData("abcdefghijk", "****jk")]
    [InlineData("abcdefghijkl", "****kl")]
    [InlineData("abcdefghijklmno", "****no")]
    [InlineData("abcdefghijklmnop", "****mnop")] // 16 and more: four
    [InlineData("sk-0123456789abcdef", "****cdef")]
    public void Mask_shows_at_most_the_last_four_characters(string secret, string masked)
    {
        Assert.Equal(masked, SecretMask.Mask(secret));
    }
}

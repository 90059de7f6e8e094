using System.Text;
using Functions.Generation.Providers;
using Functions.Generation;
using Functions.Hosting;

namespace Functions.Tests.Unit;

public sealed class UpstreamResponseTests
{
    static UpstreamResponse Answer(string body, HttpStatusCode status = HttpStatusCode.OK, bool bom = false) =>
        new(status, [.. (bom ? "\uFEFF"u8.ToArray() : []), .. Encoding.UTF8.GetBytes(body)], null, TimeSpan.Zero);

    [Fact]
    public void A_body_that_starts_with_a_byte_order_mark_still_reads_as_json()
    {
        Assert.Equal(1, (int)Answer("""{"a": 1}""", bom: true).Json("")!["a"]!);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"cut\": ")]
    [InlineData("{\"a\": 1, \"a\": 2}")] // read back, a key given twice throws
    [InlineData("{\"error\": {\"message\": \"\\ud800 lone\"}}")] // read back, a lone surrogate throws
    [InlineData("{\"data\": [{\"\\udc00\": 1}]}")] // the same in a property name
    [InlineData("{\"\\ud800\": 1, \"b\": 2}")] // ... which the duplicate-name check meets first
    public void A_body_that_is_no_json_object_reads_as_none(string body)
    {
        Assert.Null(Answer(body).Json(""));
    }

    [Theory]
    [InlineData("{\"error\": {\"message\": \"bad ", " bytes\"}}")] // in a value
    [InlineData("{\"data\": [{\"", "\": 1}]}")] // in a property name
    public void A_body_with_a_byte_that_is_no_utf8_reads_as_none(string before, string after)
    {
        // Read back, its string threw (an InvalidOperationException), where the reader expects a value or none.
        Assert.Null(new UpstreamResponse(HttpStatusCode.OK, [.. Encoding.UTF8.GetBytes(before), 0xFF, .. Encoding.UTF8.GetBytes(after)], null, TimeSpan.Zero).Json(""));
    }

    [Fact]
    public void An_answer_of_more_values_than_an_image_api_sends_is_not_read()
    {
        // {"data": [0, 0, ...]}: the object, the array and its items.
        static string Wide(int items) => $$"""{"data": [{{string.Join(",", Enumerable.Repeat("0", items))}}]}""";

        Assert.Equal(JsonText.MaxValues - 2, Answer(Wide(JsonText.MaxValues - 2)).Json("")!["data"]!.AsArray().Count);
        Assert.Null(Answer(Wide(JsonText.MaxValues - 1)).Json(""));
    }

    [Theory]
    [InlineData("\"007\"", "007")] // a string, as sent
    [InlineData("20015", "20015")]
    [InlineData("12345678901", "12345678901")] // a number as written, whatever its size
    [InlineData("1e3", "1e3")]
    [InlineData("{\"big\": 1}", null)] // no object serialized whole into a message
    [InlineData("null", null)]
    public void An_error_code_is_read_as_the_upstream_wrote_it(string code, string? read)
    {
        Assert.Equal(read, UpstreamJson.CodeMember(Answer($$"""{"code": {{code}}}""").Json(""), "code"));
    }

    [Fact]
    public void The_token_is_masked_wherever_the_answer_quotes_it()
    {
        var json = Answer("""{"error": {"message": "bad key sk-a\"b"}, "data": [{"note": "sk-a\"b twice sk-a\"b"}]}""").Json("sk-a\"b")!;

        Assert.Equal("bad key ***", (string)json["error"]!["message"]!);
        Assert.Equal("*** twice ***", (string)json["data"]![0]!["note"]!);
    }

    [Fact]
    public void A_key_the_upstream_masked_itself_is_masked_whole_since_its_ends_show()
    {
        var json = Answer("""{"error": {"message": "Incorrect API key provided: sk-proj-*****************WXYZ. Find yours at ..."}}""").Json("sk-other")!;

        Assert.Equal("Incorrect API key provided: ***. Find yours at ...", (string)json["error"]!["message"]!);
    }

    [Theory]
    [InlineData("Incorrect API key provided: sk-SECRETto...WXYZ", "Incorrect API key provided: ***")] // cut short, both ends kept
    [InlineData("bad key sk-SECRETtoken1234567890W (cut)", "bad key *** (cut)")] // its first characters
    [InlineData("the key ending 1234567890WXYZ is revoked", "the key ending *** is revoked")] // its last characters
    public void A_token_quoted_cut_short_is_masked_by_its_first_or_last_8_characters(string quoted, string shown)
    {
        var json = Answer("{\"error\": {\"message\": \"" + quoted + "\"}}").Json("sk-SECRETtoken1234567890WXYZ")!;

        Assert.Equal(shown, (string)json["error"]!["message"]!);
    }

    const string PlusSlashKey = "sk+ab/cd+SECRETMIDDLE+zz/yy==";

    [Theory]
    [InlineData("sk%2Bab%2Fcd%2BSECRETMIDDLE%2Bzz%2Fyy%3D%3D")] // percent-encoded, as in a URL the upstream quotes
    [InlineData("sk%2bab%2fcd%2bSECRETMIDDLE%2bzz%2fyy%3d%3d")] // ... with lower-case hex
    [InlineData("SK+AB/CD+SECRETMIDDLE+ZZ/YY==")] // upper-cased
    [InlineData("sk%2Bab%2Fcd%2BSECRE...")] // percent-encoded and cut short
    public void A_token_quoted_percent_encoded_or_in_another_case_is_masked_too(string quoted)
    {
        var error = Answer("{\"error\": {\"message\": \"Incorrect API key provided: " + quoted + "\"}}", HttpStatusCode.Unauthorized).Json(PlusSlashKey)!;
        var result = Answer("{\"data\": [], \"note\": \"called with " + quoted + "\"}").Json(PlusSlashKey)!;

        Assert.Equal("Incorrect API key provided: ***", (string)error["error"]!["message"]!);
        Assert.Equal("called with ***", (string)result["note"]!);
    }

    [Fact]
    public void What_only_shares_the_percent_encoding_of_the_tokens_end_is_left_as_it_is()
    {
        // The token's last 8 characters are "zz/yy==": percent-encoded "zz%2Fyy%3D%3D". A signature ending in "%3D%3D" is not it.
        var json = Answer("{\"error\": {\"message\": \"see https://cdn.test/a.png?sig=QWxhZGRpbjpvcGyy%3D%3D\"}}", HttpStatusCode.BadRequest).Json(PlusSlashKey)!;

        Assert.Equal("see https://cdn.test/a.png?sig=QWxhZGRpbjpvcGyy%3D%3D", (string)json["error"]!["message"]!);
    }

    [Fact]
    public void A_short_token_is_matched_only_as_sent_and_never_renames_a_property()
    {
        var json = Answer("{\"data\": [{\"url\": \"https://cdn.test/i.png\"}], \"note\": \"Data is ready; data\"}").Json("data")!;

        Assert.NotNull(json["data"]); // a property the provider reads
        Assert.Equal("Data is ready; ***", (string)json["note"]!);
    }

    [Fact]
    public void A_token_quoted_as_a_property_name_is_masked_too()
    {
        var json = Answer("{\"usage\": {\"keys_seen\": {\"" + PlusSlashKey + "\": 1}}}").Json(PlusSlashKey)!;

        Assert.DoesNotContain("SECRETMIDDLE", json.ToJsonString());
        Assert.Equal(1, (int)json["usage"]!["keys_seen"]!["***"]!);
    }

    [Theory]
    [InlineData("sk-abcdefgh", "bad key sk-abcde... here")] // 11 characters: no part of it is told from ordinary text
    [InlineData("sk-abcdefghi", "bad key *** here")] // 12: its first 8 mark the word as the key's
    public void Only_a_token_of_12_characters_or_more_is_masked_by_a_part_of_it(string token, string shown)
    {
        var json = Answer("{\"error\": {\"message\": \"bad key sk-abcde... here\"}}").Json(token)!;

        Assert.Equal(shown, (string)json["error"]!["message"]!);
    }

    [Fact]
    public void The_fields_an_image_is_read_from_keep_what_only_looks_like_part_of_the_token()
    {
        const string jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"; // every JWT starts with eyJhbGci
        var json = Answer("""{"image_url": "https://cdn.test/i.png?token=eyJhbGciOiJFUzI1NiJ9.other.sig", "detail": "token eyJhbGciOiJIUzI1NiJ9.eyJz..."}""").Json(jwt)!;

        Assert.Equal("https://cdn.test/i.png?token=eyJhbGciOiJFUzI1NiJ9.other.sig", (string)json["image_url"]!);
        Assert.Equal("token ***", (string)json["detail"]!);
    }

    [Theory]
    [InlineData("A poster reading ***GRAND OPENING*** in gold")]
    [InlineData("see https://example.com/a***b?x=1 for details")]
    [InlineData("rating: ***** (five stars)")]
    public void Stars_that_mask_no_key_are_left_as_they_are(string text)
    {
        var json = Answer($$"""{"revised_prompt": "{{text}}", "note": "a \"quote\""}""").Json("sk-other")!; // the escape makes the walk run

        Assert.Equal(text, (string)json["revised_prompt"]!);
    }

    [Fact]
    public void Fallback_reasons_read_as_one_sentence()
    {
        var reasons = FallbackTrail.Join(FallbackTrail.Join(null, "grok", "geminigen answered 503."), "meta", "no image.");

        Assert.Equal("grok: geminigen answered 503; meta: no image.", reasons);
        Assert.Equal("grok: it said wait...; meta: no", FallbackTrail.Join("grok: it said wait...", "meta", "no")); // an ellipsis stays
    }
}

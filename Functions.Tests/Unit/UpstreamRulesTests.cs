using Functions.Generation.Providers;

namespace Functions.Tests.Unit;

public sealed class UpstreamRulesTests
{
    [Theory]
    [InlineData("2:3", "portrait")]
    [InlineData("16:9", "landscape")]
    [InlineData("4:3", "landscape")]
    [InlineData("1:1", "square")]
    public void Orientations_are_picked_by_nearest_ratio(string ratio, string expected) =>
        Assert.Equal(expected, UpstreamMapping.NearestShape(["landscape", "portrait", "square"], ratio));

    [Theory]
    [InlineData("2:3", "3:4")]
    [InlineData("3:2", "4:3")]
    [InlineData("16:9", "16:9")]
    public void Unlisted_ratios_go_to_the_nearest_listed_one(string ratio, string expected) =>
        Assert.Equal(expected, UpstreamMapping.NearestShape(["1:1", "16:9", "9:16", "4:3", "3:4"], ratio));

    [Theory]
    [InlineData(3979, "a, watercolor painting")] // 4000 with the words
    [InlineData(3980, "a")]
    public void Style_words_are_added_only_while_the_prompt_stays_within_4000_characters(int length, string expectedTail)
    {
        var prompt = new string('a', length);
        var styled = UpstreamMapping.StyledPrompt(new Functions.Generation.GenerationRequest(prompt, "watercolor", "1:1", "dall-e-3", null, false, null, null));
        Assert.EndsWith(expectedTail, styled);
        Assert.True(styled.Length <= Functions.Generation.GenerateImageValidator.MaxPromptLength);
    }

    [Fact]
    public void Style_words_fit_by_the_prompts_characters_not_its_utf16_units()
    {
        var prompt = string.Concat(Enumerable.Repeat("\U0001F98A", 3979)); // 3979 characters, 7958 UTF-16 units
        var styled = UpstreamMapping.StyledPrompt(new Functions.Generation.GenerationRequest(prompt, "watercolor", "1:1", "dall-e-3", null, false, null, null));
        Assert.Equal(prompt + ", watercolor painting", styled); // 4000 characters, as the validator counts them
    }

    [Theory]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true)]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.Sfl-KxwRJ_SMeKKF2QT4fwpMeJf36POk6yJV_adQssw", true)] // base64url's - and _ in the signature
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0=.c2lnbmF0dXJl", true)] // a part with its Base64 padding kept
    [InlineData("gg-plain-api-key", false)]
    [InlineData("a.b", false)]
    [InlineData("a..c", false)]
    [InlineData("a.b c.d", false)]
    public void A_jwt_is_three_base64url_parts(string token, bool isJwt) => Assert.Equal(isJwt, GeminigenProvider.IsJwt(token));

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("172.31.255.255", true)] // the last of 172.16.0.0/12
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("::", true)]
    [InlineData("168.63.129.16", true)] // Azure's platform endpoint
    [InlineData("198.18.0.1", true)]
    [InlineData("192.0.0.170", true)]
    [InlineData("239.255.255.250", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("::127.0.0.1", true)] // IPv4-compatible
    [InlineData("64:ff9b::a9fe:a9fe", true)] // NAT64 of 169.254.169.254
    [InlineData("2002:7f00:1::", true)] // 6to4 of 127.0.0.1
    [InlineData("ff02::1", true)]
    [InlineData("fec0::1", true)] // site-local
    [InlineData("64:ff9b:1::a00:1", true)] // local-use NAT64 (RFC 8215)
    [InlineData("64:ff9b:1::808:808", true)] // local-use NAT64 goes to a local translator, whatever address it carries
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", true)] // Teredo
    [InlineData("192.0.2.2", true)] // the documentation ranges (TEST-NET-1, -2, -3; IPv6 2001:db8::/32 and 3fff::/20)
    [InlineData("198.51.100.7", true)]
    [InlineData("203.0.113.9", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("3fff::1", true)]
    [InlineData("192.88.99.1", true)] // the retired 6to4 relay anycast
    [InlineData("100::1", true)] // discard-only
    [InlineData("2001:10::1", true)] // IETF protocol assignments (ORCHID and others)
    [InlineData("64:ff9b::808:808", false)] // NAT64 of 8.8.8.8
    [InlineData("2002:808:808::", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("2606:4700::1111", false)]
    public void Private_addresses_are_recognised(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, UpstreamImages.IsPrivate(IPAddress.Parse(address)));

    [Theory]
    [InlineData(400, "upstream_rejected", false)]
    [InlineData(422, "upstream_rejected", false)]
    [InlineData(101, "upstream_error", true)] // a protocol switch nobody asked for: the upstream's fault, not the request's (was upstream_rejected)
    [InlineData(199, "upstream_error", true)]
    [InlineData(503, "upstream_error", true)]
    public void Only_a_4xx_says_the_upstream_refused_the_request(int status, string code, bool retryable)
    {
        var failure = UpstreamFailures.FromStatus("openai", (System.Net.HttpStatusCode)status, null, null);

        Assert.Equal((code, retryable), (failure.Code, failure.Retryable));
    }
}

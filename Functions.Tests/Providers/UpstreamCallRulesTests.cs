using System.Text.Json.Nodes;
using Functions.Generation;
using Functions.Generation.Providers;
using Functions.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Providers;

/// <summary>
/// The rules every upstream call and image download is held to (<see cref="UpstreamHttp"/>, <see cref="UpstreamImages"/>),
/// against a scripted loopback server: what is retried, how large an answer may be, which image URLs are fetched.
/// </summary>
public sealed class UpstreamCallRulesTests : IAsyncLifetime
{
    const long MaxImageBytes = 3 * 1024 * 1024;
    readonly ScriptedServer _server = new();

    static readonly UpstreamOptions Options = new()
    {
        MaxImageBytes = MaxImageBytes, MaxRetries = 1, RetryBaseDelaySeconds = 0.01, AttemptTimeoutSeconds = 2, AllowPrivateAddresses = true,
    };

    static UpstreamHttp Http() => new(Microsoft.Extensions.Options.Options.Create(Options), NullLogger<UpstreamHttp>.Instance);

    static UpstreamImages Images(long maxImageBytes = MaxImageBytes) =>
        new(Microsoft.Extensions.Options.Options.Create(new UpstreamOptions
        {
            MaxImageBytes = maxImageBytes, AttemptTimeoutSeconds = Options.AttemptTimeoutSeconds, AllowPrivateAddresses = true,
        }), TestImages.Inspector);

    static readonly byte[] Png = TestImages.Png(8, 6);

    [Fact]
    public async Task A_task_submit_that_found_no_connection_is_sent_again_since_the_upstream_surely_did_not_start_it()
    {
        var closed = $"http://127.0.0.1:{FreePort.Next()}/generate"; // nothing listens there: the connection is refused
        var open = _server.Serve("/generate", 200, "application/json", """{"status": 1}"""u8.ToArray());
        var attempts = 0;
        using var http = Http();

        var response = await http.SendAsync("geminigen", () => new HttpRequestMessage(HttpMethod.Post, ++attempts == 1 ? closed : open),
            CancellationToken.None, UpstreamCallKind.StartTask);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(2, attempts);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("a minute ago")] // as an HTTP date
    public async Task A_retry_after_of_no_wait_is_retried_after_the_base_delay_not_at_once(string retryAfter)
    {
        if (retryAfter == "a minute ago") retryAfter = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("R");
        var limited = _server.Serve("/limited", 429, "application/json", """{"error": {"code": "rate_limit_exceeded"}}"""u8.ToArray(), retryAfter);
        var open = _server.Serve("/open", 200, "application/json", """{"data": []}"""u8.ToArray());
        var sent = new List<long>();
        using var http = new UpstreamHttp(Microsoft.Extensions.Options.Options.Create(new UpstreamOptions
        {
            MaxRetries = 1, RetryBaseDelaySeconds = 2, AttemptTimeoutSeconds = 5, AllowPrivateAddresses = true,
        }), NullLogger<UpstreamHttp>.Instance);

        var response = await http.SendAsync("openai", () =>
        {
            sent.Add(Environment.TickCount64);
            return new HttpRequestMessage(HttpMethod.Post, sent.Count == 1 ? limited : open);
        }, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        // Three calls within 10 ms before: a rate-limited, paid endpoint asked again at once. The jittered delay from a 2 s
        // base is under 50 ms once in about 3,000 tries.
        Assert.True(sent[1] - sent[0] >= 50, $"sent again after {sent[1] - sent[0]} ms");
    }

    [Fact]
    public async Task An_answer_may_carry_a_base64_image_of_the_largest_size_and_no_more()
    {
        var largest = MaxImageBytes / 3 * 4 + 1024 * 1024; // the image in Base64, and a megabyte for the JSON around it
        var fits = _server.Serve("/fits", 200, "application/json", new byte[largest]);
        var tooLarge = _server.Serve("/too-large", 200, "application/json", new byte[largest + 1]);
        using var http = Http();

        var read = await http.SendAsync("openai", () => new HttpRequestMessage(HttpMethod.Post, fits), CancellationToken.None);
        var refused = await RefusedAsync(() => http.SendAsync("openai", () => new HttpRequestMessage(HttpMethod.Post, tooLarge), CancellationToken.None));

        Assert.Equal(largest, read.Body.Length);
        Assert.Contains("larger than", refused.Message); // an image too large
    }

    [Fact]
    public async Task An_error_answer_is_read_up_to_64_KiB_and_past_that_only_its_status_counts()
    {
        var readable = _server.Serve("/readable-error", 401, "application/json", new byte[UpstreamHttp.ErrorBodyMaxBytes]);
        var large = _server.Serve("/large-error", 401, "application/json", new byte[UpstreamHttp.ErrorBodyMaxBytes + 1]);
        using var http = Http();

        var read = await http.SendAsync("openai", () => new HttpRequestMessage(HttpMethod.Post, readable), CancellationToken.None);
        var unread = await http.SendAsync("openai", () => new HttpRequestMessage(HttpMethod.Post, large), CancellationToken.None);

        Assert.Equal((HttpStatusCode.Unauthorized, UpstreamHttp.ErrorBodyMaxBytes), (read.Status, read.Body.Length));
        Assert.Equal((HttpStatusCode.Unauthorized, 0), (unread.Status, unread.Body.Length));
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/image.png")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1/img/1?sig=SIGSECRET&se=2030")] // a signed URL: its signature stays out of the message (logged, and answered)
    [InlineData("https://user:SIGSECRET/x@files.example/x.png")] // no URL .NET reads: a password where no redaction finds it
    [InlineData("user:SIGSECRET@files.example/x.png")]
    public async Task An_image_url_that_is_not_http_or_https_is_refused_as_the_upstreams_failure(string url)
    {
        using var images = Images();

        var refused = await RefusedAsync(() => images.DownloadAsync(url, CancellationToken.None));

        Assert.Contains("is not an http or https URL", refused.Message);
        Assert.DoesNotContain("SIGSECRET", refused.Message);
    }

    [Theory]
    [InlineData("images/1.png", "no scheme .NET reads")] // a relative URL: the message's own words, not a client value cut at 16 characters
    [InlineData("ftp://127.0.0.1/image.png", "ftp")]
    public async Task An_image_url_that_is_not_http_or_https_is_named_by_its_scheme_in_the_message(string url, string named)
    {
        using var images = Images();

        var refused = await RefusedAsync(() => images.DownloadAsync(url, CancellationToken.None));

        Assert.Contains($"the image URL ({named}) is not an http or https URL", refused.Message);
    }

    [Fact]
    public async Task An_image_at_an_error_status_is_refused_even_when_its_bytes_are_an_image()
    {
        var placeholder = _server.Serve("/gone.png", 404, "image/png", Png); // a CDN's "not found" picture
        using var images = Images();

        var refused = await RefusedAsync(() => images.DownloadAsync(placeholder, CancellationToken.None));

        Assert.Contains("answered 404", refused.Message);
    }

    [Fact]
    public async Task An_image_url_is_followed_through_three_redirects_and_not_a_fourth()
    {
        var image = _server.Serve("/cdn/image.png", 200, "image/png", Png);
        string Chain(string name, int hops) =>
            Enumerable.Range(1, hops).Reverse().Aggregate(image, (next, hop) => _server.Redirect($"/{name}/{hop}", next));
        using var images = Images();

        var (bytes, _) = await images.DownloadAsync(Chain("three", 3), CancellationToken.None);
        var refused = await RefusedAsync(() => images.DownloadAsync(Chain("four", 4), CancellationToken.None));

        Assert.Equal(Png, bytes);
        Assert.Contains("answered 302", refused.Message); // a redirect loop ends, and fails over to another model
    }

    [Theory]
    [InlineData("file:///etc/passwd", "redirected to no http or https URL")] // it threw, and answered 500
    [InlineData("ftp://127.0.0.1/image.png", "could not be fetched")]
    [InlineData("http://[::1", "answered 302")] // no URL at all: the redirect is not followed
    public async Task An_image_url_that_redirects_to_no_http_url_is_refused_as_the_upstreams_failure(string to, string reason)
    {
        var redirect = _server.Redirect($"/elsewhere/{Guid.NewGuid():N}", to);
        using var images = Images();

        var refused = await RefusedAsync(() => images.DownloadAsync(redirect, CancellationToken.None));

        Assert.Contains(reason, refused.Message);
    }

    [Fact]
    public async Task An_image_served_under_a_type_that_is_no_image_type_is_taken_for_what_its_bytes_are()
    {
        var url = _server.Serve("/image", 200, "application/octet-stream", Png); // a bucket that does not know what it stores
        using var images = Images();

        var (bytes, info) = await images.DownloadAsync(url, CancellationToken.None);

        Assert.Equal(Png, bytes);
        Assert.Equal("image/png", info.ContentType);
    }

    [Fact]
    public async Task An_image_is_fetched_up_to_the_size_cap_and_refused_past_it_even_when_it_decodes()
    {
        var url = _server.Serve("/image.png", 200, "image/png", Png);
        using var atCap = Images(maxImageBytes: Png.Length);
        using var belowCap = Images(maxImageBytes: Png.Length - 1);

        var (bytes, _) = await atCap.DownloadAsync(url, CancellationToken.None);
        var refused = await RefusedAsync(() => belowCap.DownloadAsync(url, CancellationToken.None));

        Assert.Equal(Png, bytes);
        Assert.Contains("Upstream:MaxImageBytes", refused.Message);
    }

    [Theory]
    [InlineData(false)] // read from the answer's UTF-8
    [InlineData(true)] // with a JSON escape: read as a string
    public async Task A_base64_image_is_taken_up_to_the_size_cap_as_a_download_is_and_refused_past_it_even_when_it_decodes(bool escaped)
    {
        Assert.NotEqual(0, Png.Length % 3); // its Base64 is padded: the padded length alone would say more bytes than it has
        using var atCap = Images(maxImageBytes: Png.Length);
        using var belowCap = Images(maxImageBytes: Png.Length - 1);
        var base64 = Convert.ToBase64String(Png);
        JsonValue Answered() => (JsonValue)JsonNode.Parse($"\"{(escaped ? "\\u" + ((int)base64[0]).ToString("x4") + base64[1..] : base64)}\"")!;

        var (bytes, _) = await atCap.FromBase64Async("openai", Answered(), CancellationToken.None);
        var refused = await RefusedAsync(() => belowCap.FromBase64Async("openai", Answered(), CancellationToken.None));

        Assert.Equal(Png, bytes);
        Assert.Contains($"larger than {Png.Length - 1} bytes", refused.Message);
    }

    [Fact]
    public async Task An_image_url_that_never_answers_is_given_up_after_the_attempt_timeout_as_retryable()
    {
        var hanging = _server.Serve("/hangs.png", 200, "image/png", body: null);
        using var images = Images();

        // The bound only keeps a broken rule from hanging the test run; the rule's own bound is the 2 s attempt timeout.
        var refused = await Assert.ThrowsAsync<GenerationFailedException>(() =>
            images.DownloadAsync(hanging, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal((GenerationErrors.UpstreamTimeout, true), (refused.Code, refused.Retryable));
    }

    /// <summary>The refusal of an upstream's image: retryable, as another model may do better.</summary>
    static async Task<GenerationFailedException> RefusedAsync(Func<Task> call)
    {
        var refused = await Assert.ThrowsAsync<GenerationFailedException>(call);
        Assert.Equal((GenerationErrors.InvalidUpstreamImage, true), (refused.Code, refused.Retryable));
        return refused;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _server.DisposeAsync();
}

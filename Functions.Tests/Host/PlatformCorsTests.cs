using Functions.LocalHost;
using Microsoft.AspNetCore.Builder;

namespace Functions.Tests.Host;

/// <summary>The Functions platform's CORS, as the local host applies it from Host:CORS and Host:CORSCredentials.</summary>
public sealed class PlatformCorsTests(PlatformCorsTests.CorsFixture app) : IClassFixture<PlatformCorsTests.CorsFixture>
{
    const string Page = "https://app.example", DevServer = "http://localhost:5173";

    public sealed class CorsFixture : AppFixture
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            [PlatformCors.OriginsSetting] = $"{Page}, {DevServer}",
            [PlatformCors.CredentialsSetting] = "true",
        };
    }

    static HttpRequestMessage From(string origin, HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Origin", origin);
        return request;
    }

    [Fact]
    public async Task A_preflight_from_a_listed_origin_is_allowed_its_method_and_headers()
    {
        var preflight = From(Page, HttpMethod.Options, "/api/images/generate");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,idempotency-key,prefer");

        using var response = await app.Client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode); // was 405: no route takes OPTIONS
        Assert.Equal(Page, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Equal("content-type,idempotency-key,prefer", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
        Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
        Assert.True(response.Headers.Contains("X-Request-Id")); // as every answer
    }

    [Theory]
    [InlineData("/api/healthz", HttpStatusCode.OK)]
    [InlineData("/api/v1/jobs/job_00", HttpStatusCode.NotFound)] // an error answer too
    [InlineData("/api/nowhere", HttpStatusCode.NotFound)]
    public async Task An_answer_to_a_listed_origin_allows_it(string path, HttpStatusCode status)
    {
        using var response = await app.Client.SendAsync(From(DevServer, HttpMethod.Get, path));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(DevServer, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task An_answer_to_another_origin_allows_none()
    {
        using var response = await app.Client.SendAsync(From("https://elsewhere.example", HttpMethod.Get, "/api/healthz"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("app.example")]
    [InlineData("https://app.example/")] // a browser's Origin has no slash: it would never match
    [InlineData("https://app.example/path")]
    [InlineData("ftp://app.example")]
    [InlineData("https://user@app.example")]
    public void An_entry_that_is_no_origin_stops_the_start_naming_it(string origin)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Build(origin, credentials: null));

        Assert.StartsWith($"Host:CORS has '{origin}'", refused.Message);
    }

    [Fact]
    public void Credentials_with_every_origin_allowed_stop_the_start()
    {
        var refused = Assert.Throws<InvalidOperationException>(() => Build("*", credentials: "true"));

        Assert.StartsWith("Host:CORSCredentials cannot be true while Host:CORS allows every origin", refused.Message);
    }

    static void Build(string origins, string? credentials)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration[PlatformCors.OriginsSetting] = origins;
        builder.Configuration[PlatformCors.CredentialsSetting] = credentials;
        builder.AddPlatformCors();
    }
}

/// <summary>Without Host:CORS, as on the platform with no origin listed: no answer allows another origin.</summary>
public sealed class NoPlatformCorsTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_preflight_is_refused_and_an_answer_allows_no_origin()
    {
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/images/generate");
        preflight.Headers.Add("Origin", "https://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        var plain = new HttpRequestMessage(HttpMethod.Get, "/api/healthz");
        plain.Headers.Add("Origin", "https://app.example");

        using var refused = await app.Client.SendAsync(preflight);
        using var answered = await app.Client.SendAsync(plain);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, refused.StatusCode);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin") || answered.Headers.Contains("Access-Control-Allow-Origin"));
    }
}

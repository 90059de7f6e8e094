using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Functions.Tests.Api;

public sealed class ConfigTokenTests(AppFixture app) : IClassFixture<AppFixture>
{
    HttpRequestMessage Request(HttpMethod method, string? key = AppFixture.AdminKey, string? body = null)
    {
        var request = new HttpRequestMessage(method, "/api/config/token");
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        return request;
    }

    const string NoKey = "This operation needs the admin key in the X-Admin-Key header.", WrongKey = "The admin key is not valid.";

    [Theory]
    [InlineData("GET", null, NoKey)]
    [InlineData("POST", null, NoKey)]
    [InlineData("DELETE", null, NoKey)]
    [InlineData("GET", "wrong-key", WrongKey)]
    [InlineData("POST", "wrong-key", WrongKey)]
    [InlineData("GET", "test-admin-key-012345678", WrongKey)] // the admin key less its last character
    public async Task Token_operations_without_the_admin_key_answer_401(string method, string? key, string message)
    {
        var response = await app.Client.SendAsync(Request(new HttpMethod(method), key, """{"token":"abc123456789"}"""));

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal("AdminKey header=\"X-Admin-Key\"", Assert.Single(response.Headers.WwwAuthenticate).ToString()); // RFC 9110: a 401 names its challenge
    }

    [Theory]
    [InlineData(AppFixture.AdminKey)]
    [InlineData("wrong-key")]
    public async Task An_admin_key_header_sent_twice_answers_400_and_saves_nothing(string second)
    {
        var request = Request(HttpMethod.Post, body: """{"token":"sent-with-two-keys-0123"}""");
        request.Headers.Add("X-Admin-Key", second);

        var error = await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(request), HttpStatusCode.BadRequest, "bad_request");
        var status = await (await app.Client.SendAsync(Request(HttpMethod.Get))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Contains("more than once", error.GetProperty("message").GetString());
        Assert.False(status.GetProperty("configured").GetBoolean());
    }

    [Fact]
    public async Task Saved_token_is_reported_masked_and_removed()
    {
        const string token = "gg-secret-token-0123456789abcd";

        var saved = await app.Client.SendAsync(Request(HttpMethod.Post, body: JsonSerializer.Serialize(new { token = $" {token}\t" }))); // kept trimmed
        var status = await app.Client.SendAsync(Request(HttpMethod.Get));
        var statusText = await status.Content.ReadAsStringAsync();
        var removed = await (await app.Client.SendAsync(Request(HttpMethod.Delete))).Content.ReadFromJsonAsync<JsonElement>();
        var removedAgain = await (await app.Client.SendAsync(Request(HttpMethod.Delete))).Content.ReadFromJsonAsync<JsonElement>();
        var after = await (await app.Client.SendAsync(Request(HttpMethod.Get))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.True((await saved.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean());
        var json = JsonDocument.Parse(statusText).RootElement;
        Assert.True(json.GetProperty("configured").GetBoolean());
        Assert.Equal("****abcd", json.GetProperty("token").GetString());
        Assert.DoesNotContain("secret", statusText);
        Assert.True(removed.GetProperty("success").GetBoolean());
        Assert.Equal("Token removed.", removed.GetProperty("message").GetString());
        Assert.True(removedAgain.GetProperty("success").GetBoolean()); // removing none succeeds, and says so
        Assert.Equal("No token was saved.", removedAgain.GetProperty("message").GetString());
        Assert.False(after.GetProperty("configured").GetBoolean());
        Assert.False(after.TryGetProperty("token", out _), "a string in the contract is never null: absent when none is set");
    }

    [Theory]
    [InlineData("""{"token":""}""", "missing_token")]
    [InlineData("""{"token":"   "}""", "missing_token")]
    [InlineData("""{}""", "missing_token")]
    [InlineData("""{"token":null}""", "missing_token")]
    [InlineData("""{"token":12}""", "invalid_type")]
    [InlineData("""{"token":"abc\u0007def"}""", "invalid_token")]
    [InlineData("""{"token":"aaaaaaaaaaaaa\ud83d\ude00bbb"}""", "invalid_token")]
    [InlineData("""{"token":"abc""", "invalid_json")]
    public async Task Bad_token_answers_400(string body, string error)
    {
        var response = await app.Client.SendAsync(Request(HttpMethod.Post, body: body));

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, error);
    }

    [Fact]
    public async Task Token_over_4_KiB_answers_400_and_one_of_4_KiB_is_kept()
    {
        var tooLong = await app.Client.SendAsync(Request(HttpMethod.Post, body: JsonSerializer.Serialize(new { token = new string('t', 4097) })));
        var atLimit = await app.Client.SendAsync(Request(HttpMethod.Post, body: JsonSerializer.Serialize(new { token = new string('t', 4096) })));

        await GenerateImageTests.AssertKioaiError(tooLong, HttpStatusCode.BadRequest, "token_too_long");
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        await app.Client.SendAsync(Request(HttpMethod.Delete));
    }
}

/// <summary>No admin key set and none generated (Azure before the key is deployed): the token endpoints stay locked.</summary>
public sealed class NoAdminKeyFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["Auth:AdminKey"] = "", ["Auth:GenerateLocalAdminKey"] = "false" };
}

/// <summary>With no admin key to compare against, no key a caller sends is taken for it.</summary>
public sealed class NoAdminKeyTests(NoAdminKeyFixture app) : IClassFixture<NoAdminKeyFixture>
{
    [Theory]
    [InlineData("GET", "/api/config/token")]
    [InlineData("POST", "/api/config/token")]
    [InlineData("DELETE", "/api/config/token")]
    [InlineData("GET", "/api/config/providers/siliconflow/token")]
    [InlineData("POST", "/api/config/providers/siliconflow/token")]
    [InlineData("DELETE", "/api/config/providers/siliconflow/token")]
    public async Task Any_admin_key_answers_401_when_none_is_configured(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent("""{"token":"abc123456789"}""", Encoding.UTF8, "application/json"),
            Headers = { { "X-Admin-Key", "anything" } },
        };

        var response = await app.Client.SendAsync(request);

        var error = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("The admin key is not valid.", error.GetProperty("message").GetString());
    }
}

/// <summary>The app with its log kept and its clock held, for one test of what a flood of wrong admin keys writes.</summary>
public sealed class KeptLogFixture : AppFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    protected override bool KeepsLogs => true;
    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);
}

public sealed class AdminKeyGuessTests(KeptLogFixture app) : IClassFixture<KeptLogFixture>
{
    [Fact]
    public async Task A_flood_of_wrong_admin_keys_logs_its_first_line_and_its_count_at_the_minute_s_end_never_a_key()
    {
        for (var attempt = 0; attempt < 30; attempt++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/config/token") { Headers = { { "X-Admin-Key", $"guess-{attempt:D4}" } } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(request)).StatusCode);
        }
        var first = Assert.Single(app.Logs, line => line.Contains("the admin key is not valid"));
        Assert.DoesNotContain(app.Logs, line => line.Contains("Wrong admin keys refused"));

        app.Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.StartsWith("Warning ", first);
        Assert.Contains("GET /api/config/token from", first);
        var count = Assert.Single(app.Logs, line => line.Contains("Wrong admin keys refused"));
        Assert.StartsWith("Warning ", count);
        Assert.Contains("Wrong admin keys refused in the last 00:01:00, besides the one logged: 29, from ", count);
        Assert.DoesNotContain(app.Logs, logged => logged.Contains("guess-"));
    }
}

using Functions.Tokens;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Api;

public sealed class RendererOffFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:OfflineRenderer"] = "false" };
}

public sealed class RendererOffTests(RendererOffFixture app) : IClassFixture<RendererOffFixture>
{
    [Fact]
    public async Task Without_token_or_renderer_generate_answers_400_token_not_configured_and_stores_nothing()
    {
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "anything" });

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, "token_not_configured");
        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history");
        Assert.Equal(0, history.GetProperty("total").GetInt64());
    }
}

// The fixture's Azurite is empty (new, or emptied by AzuritePool), and nothing creates the tables at startup (StorageBootstrap does on first use).
public sealed class NewStorageTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task The_history_is_empty_not_an_error_when_it_is_the_first_request_on_new_storage()
    {
        var response = await app.Client.GetAsync("/api/images/history");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("total").GetInt64());
    }
}

public sealed class StorageOutageTests : IAsyncLifetime
{
    Azurite _azurite = null!;
    AppFactory _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuritePool.RentAsync();
        _app = new AppFactory(_azurite.ConnectionString, new Dictionary<string, string?> { ["Auth:AdminKey"] = AppFixture.AdminKey });
    }

    [Fact]
    public async Task Storage_down_makes_healthz_503_and_generate_503_in_the_kioai_shape()
    {
        var client = _app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/healthz")).StatusCode);

        _azurite.Kill();
        var health = await client.GetAsync("/api/healthz");
        var generate = await client.PostAsJsonAsync("/api/images/generate", new { prompt = "while down" });

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.NotEqual("ok", (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await GenerateImageTests.AssertKioaiError(generate, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await AzuritePool.ReturnAsync(_azurite);
    }
}

public sealed class GeneratedAdminKeyTests : IAsyncLifetime
{
    Azurite _azurite = null!;
    readonly List<string> _announced = [];

    public async Task InitializeAsync() => _azurite = await AzuritePool.RentAsync();

    AppFactory NewApp() => new(_azurite.ConnectionString, new Dictionary<string, string?> { ["Auth:GenerateLocalAdminKey"] = "true" },
        services => services.AddSingleton<IAdminKeyAnnouncer>(new CapturingAnnouncer(_announced)));

    [Fact]
    public async Task First_start_generates_a_key_prints_it_once_and_keeps_it_across_restarts()
    {
        await using (var first = NewApp())
        {
            var client = first.CreateClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/config/token")).StatusCode);
            var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/config/token") { Headers = { { "X-Admin-Key", "guess" } } };
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrong)).StatusCode); // checking a key loads or makes it
            var key = Assert.Single(_announced);
            Assert.Matches("^adm_[0-9a-f]{48}$", key); // 192 random bits
            var ok = new HttpRequestMessage(HttpMethod.Get, "/api/config/token") { Headers = { { "X-Admin-Key", key } } };
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(ok)).StatusCode);
        }

        await using var second = NewApp();
        var again = new HttpRequestMessage(HttpMethod.Get, "/api/config/token") { Headers = { { "X-Admin-Key", _announced[0] } } };
        Assert.Equal(HttpStatusCode.OK, (await second.CreateClient().SendAsync(again)).StatusCode);
        Assert.Single(_announced);
    }

    public async Task DisposeAsync() => await AzuritePool.ReturnAsync(_azurite);

    internal sealed class CapturingAnnouncer(List<string> keys) : IAdminKeyAnnouncer
    {
        public void Announce(string key)
        {
            lock (keys) keys.Add(key);
        }
    }
}

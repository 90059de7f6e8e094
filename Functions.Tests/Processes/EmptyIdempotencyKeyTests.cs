namespace Functions.Tests.Processes;

/// <summary>
/// An Idempotency-Key header sent empty, against the local host's own Kestrel: the in-memory test server drops a
/// header whose value is empty before the app sees it, Kestrel does not.
/// </summary>
public sealed class EmptyIdempotencyKeyTests : IAsyncLifetime
{
    Azurite _azurite = null!;
    AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        _app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString);
    }

    [Fact]
    public async Task An_empty_key_is_400_invalid_idempotency_key_and_makes_no_job()
    {
        using var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = JsonContent.Create(new { prompt = "empty key" }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "");

        var response = await client.SendAsync(request);

        await Api.GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, "invalid_idempotency_key");
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/jobs")).GetProperty("data").EnumerateArray());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}

namespace Functions.Tests.Api;

public sealed class HistoryAndDeleteTests(AppFixture app) : IClassFixture<AppFixture>
{
    async Task<JsonElement> HistoryAsync(string query = "") =>
        await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history" + query);

    static long[] Ids(JsonElement history) => history.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToArray();

    [Fact]
    public async Task History_is_newest_first_pages_with_limit_and_offset_and_hides_private_images()
    {
        var made = new List<JsonElement>();
        for (var i = 0; i < 5; i++) made.Add(await app.GenerateAsync(new { prompt = $"history {i}" }));
        var secret = (await app.GenerateAsync(new { prompt = "private one", isPrivate = true })).GetProperty("id").GetInt64();

        var all = await HistoryAsync("?limit=100");
        var firstTwo = await HistoryAsync("?limit=2");
        var nextTwo = await HistoryAsync("?limit=2&offset=2");
        var beyond = await HistoryAsync("?offset=100000");

        var publicIds = Ids(all);
        Assert.Equal(publicIds.OrderDescending(), publicIds);
        Assert.Subset(publicIds.ToHashSet(), made.Select(m => m.GetProperty("id").GetInt64()).ToHashSet());
        Assert.DoesNotContain(secret, publicIds);
        Assert.Equal(publicIds.Length, all.GetProperty("total").GetInt64());
        Assert.Equal(publicIds[..2], Ids(firstTwo));
        Assert.Equal(publicIds[2..4], Ids(nextTwo));
        Assert.Empty(Ids(beyond));
        var record = all.GetProperty("images")[0]; // the newest public image: the last one made, as generate answered it
        foreach (var field in new[] { "id", "imageUrl", "prompt", "style", "aspectRatio", "model", "createdAt" })
            Assert.Equal(made[^1].GetProperty(field).GetRawText(), record.GetProperty(field).GetRawText());
        Assert.False(record.GetProperty("isPrivate").GetBoolean());
        Assert.False(record.TryGetProperty("userId", out _)); // no user: left out, as null is no integer in OpenAPI 3.1
    }

    [Fact]
    public async Task History_without_a_limit_answers_a_page_of_20()
    {
        await Task.WhenAll(Enumerable.Range(0, 21).Select(i => app.GenerateAsync(new { prompt = $"default page {i}" })));

        var history = await HistoryAsync();

        Assert.True(history.GetProperty("total").GetInt64() >= 21);
        Assert.Equal(20, Ids(history).Length);
    }

    [Theory]
    [InlineData("?limit=0", "invalid_limit")]
    [InlineData("?limit=101", "invalid_limit")]
    [InlineData("?limit=abc", "invalid_limit")]
    [InlineData("?limit=1.5", "invalid_limit")]
    [InlineData("?limit=", "invalid_limit")]
    [InlineData("?limit=1&limit=2", "invalid_limit")]
    [InlineData("?offset=-1", "invalid_offset")]
    [InlineData("?offset=x", "invalid_offset")]
    [InlineData("?limit=1%00", "invalid_limit")] // int.TryParse alone reads "1\0" as 1
    [InlineData("?offset=0%00", "invalid_offset")]
    public async Task Bad_paging_answers_400(string query, string error)
    {
        var response = await app.Client.GetAsync("/api/images/history" + query);

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, error);
    }

    [Theory]
    [InlineData("?limit=1")]
    [InlineData("?limit=100&offset=0")]
    [InlineData("?offset=2147483647")]
    public async Task Paging_at_its_bounds_answers_200(string query)
    {
        var response = await app.Client.GetAsync("/api/images/history" + query);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Delete_removes_the_row_and_the_blob()
    {
        var image = await app.GenerateAsync(new { prompt = "to delete" });
        var id = image.GetProperty("id").GetInt64();
        var download = new Uri(image.GetProperty("imageUrl").GetString()!).PathAndQuery;
        var totalBefore = (await HistoryAsync()).GetProperty("total").GetInt64();

        var deleted = await app.Client.DeleteAsync($"/api/images/{id}");
        var again = await app.Client.DeleteAsync($"/api/images/{id}");

        Assert.True((await deleted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean());
        await GenerateImageTests.AssertKioaiError(again, HttpStatusCode.NotFound, "not_found");
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(download)).StatusCode);
        Assert.DoesNotContain(id, Ids(await HistoryAsync("?limit=100")));
        Assert.Equal(totalBefore - 1, (await HistoryAsync()).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Delete_of_a_private_image_works_by_id()
    {
        var id = (await app.GenerateAsync(new { prompt = "private to delete", isPrivate = true })).GetProperty("id").GetInt64();

        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.DeleteAsync($"/api/images/{id}")).StatusCode);
    }

    [Fact]
    public async Task An_id_written_unlike_the_one_given_deletes_nothing()
    {
        var id = (await app.GenerateAsync(new { prompt = "kept under its own id" })).GetProperty("id").GetInt64();

        foreach (var lookalike in new[] { $"+{id}", $"0{id}" })
            await GenerateImageTests.AssertKioaiError(await app.Client.DeleteAsync($"/api/images/{lookalike}"), HttpStatusCode.NotFound, "not_found");
        Assert.Contains(id, Ids(await HistoryAsync("?limit=100")));
    }

    [Theory]
    [InlineData("DELETE", "/api/images/generate", "POST")]
    [InlineData("GET", "/api/images/generate", "POST")]
    [InlineData("DELETE", "/api/images/history", "GET, HEAD")]
    public async Task A_wrong_method_on_generate_or_history_is_405_naming_only_their_methods(string method, string path, string allowed)
    {
        var response = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(allowed, string.Join(", ", response.Content.Headers.Allow));
    }

    [Fact]
    public async Task A_wrong_method_on_an_image_path_that_is_no_image_id_is_404_and_offers_no_method()
    {
        var notAnId = await app.Client.GetAsync("/api/images/abc");
        var anId = await app.Client.GetAsync("/api/images/5");

        await GenerateImageTests.AssertKioaiError(notAnId, HttpStatusCode.NotFound, "not_found");
        Assert.Empty(notAnId.Content.Headers.Allow);
        await GenerateImageTests.AssertKioaiError(anId, HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(["DELETE"], anId.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("987654")]
    [InlineData("0")]
    [InlineData("-3")] // an integer as the contract types it, and no image has it
    [InlineData("99999999999999999999999")] // the contract's integer has no bound
    [InlineData("abc")] // no integer: the contract declares 404 for an image that is not there, and no 400
    [InlineData("1.5")]
    [InlineData("-")]
    public async Task Delete_of_a_missing_image_answers_404(string id)
    {
        await GenerateImageTests.AssertKioaiError(await app.Client.DeleteAsync($"/api/images/{id}"), HttpStatusCode.NotFound, "not_found");
    }
}

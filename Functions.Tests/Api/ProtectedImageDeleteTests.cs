using Functions.Tokens;

namespace Functions.Tests.Api;

public sealed class ProtectedImageDeleteFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["Auth:ImageDeleteNeedsAdminKey"] = "true" };
}

/// <summary>
/// With Auth:ImageDeleteNeedsAdminKey, deleting an image (ids count up from 1) or a file (ids are listed) needs the admin
/// key; nothing else changes.
/// </summary>
public sealed class ProtectedImageDeleteTests(ProtectedImageDeleteFixture app) : IClassFixture<ProtectedImageDeleteFixture>
{
    static HttpRequestMessage Delete(long id, params string[] keys)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/images/{id}");
        foreach (var key in keys) request.Headers.Add("X-Admin-Key", key);
        return request;
    }

    [Fact]
    public async Task Without_the_admin_key_a_delete_answers_401_and_the_image_stays()
    {
        var image = await app.GenerateAsync(new { prompt = "not yours to delete", isPrivate = true });
        var id = image.GetProperty("id").GetInt64();
        var download = new Uri(image.GetProperty("imageUrl").GetString()!).PathAndQuery;

        await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(Delete(id)), HttpStatusCode.Unauthorized, "unauthorized");
        await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(Delete(id, "not-the-admin-key-at-all")), HttpStatusCode.Unauthorized, "unauthorized");
        await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(Delete(987654)), HttpStatusCode.Unauthorized, "unauthorized"); // no hint whether it exists

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync(download)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(Delete(id, AppFixture.AdminKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(download)).StatusCode);
        await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(Delete(id, AppFixture.AdminKey)), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_admin_key_sent_twice_is_a_400()
    {
        await GenerateImageTests.AssertKioaiError(await app.Client.SendAsync(Delete(1, AppFixture.AdminKey, AppFixture.AdminKey)),
            HttpStatusCode.BadRequest, "bad_request");
    }

    [Fact]
    public async Task Without_the_admin_key_a_file_delete_answers_401_in_the_files_shape_and_the_image_stays()
    {
        var image = await app.GenerateAsync(new { prompt = "not yours to delete through the files API" });
        var download = new Uri(image.GetProperty("imageUrl").GetString()!).PathAndQuery;
        var file = download[..download.LastIndexOf("/download", StringComparison.Ordinal)];
        static HttpRequestMessage DeleteFile(string path, params string[] keys)
        {
            var request = new HttpRequestMessage(HttpMethod.Delete, path);
            foreach (var key in keys) request.Headers.Add("X-Admin-Key", key);
            return request;
        }

        foreach (var refused in new[] { DeleteFile(file), DeleteFile(file, "not-the-admin-key-at-all"), DeleteFile("/api/v1/files/file_0123456789abcdef") })
        {
            var response = await app.Client.SendAsync(refused);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(AdminOnly.Challenge, response.Headers.WwwAuthenticate.ToString());
            Assert.Equal(JsonValueKind.String, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
        }
        var twice = await app.Client.SendAsync(DeleteFile(file, AppFixture.AdminKey, AppFixture.AdminKey));

        Assert.Equal(HttpStatusCode.BadRequest, twice.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync(download)).StatusCode);
        Assert.Contains(image.GetProperty("id").GetInt64(), await HistoryIdsAsync());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(DeleteFile(file, AppFixture.AdminKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(download)).StatusCode);
        Assert.DoesNotContain(image.GetProperty("id").GetInt64(), await HistoryIdsAsync());
    }

    async Task<long[]> HistoryIdsAsync() =>
        [.. (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100")).GetProperty("images").EnumerateArray().Select(i => i.GetProperty("id").GetInt64())];
}

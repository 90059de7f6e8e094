namespace Functions.Tests.Api;

public sealed class ProtectedImageDeleteFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["Auth:ImageDeleteNeedsAdminKey"] = "true" };
}

/// <summary>With Auth:ImageDeleteNeedsAdminKey, deleting an image (ids count up from 1) needs the admin key; nothing else changes.</summary>
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
}

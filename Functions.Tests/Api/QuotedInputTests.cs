using System.Net.Http.Headers;
using System.Text;

namespace Functions.Tests.Api;

/// <summary>
/// An error that quotes what the client sent (a header, the path, a JSON property name) quotes it cut short, as it
/// does a long id or query value (Echo): never a huge input copied back whole.
/// </summary>
public sealed class QuotedInputTests(AppFixture app) : IClassFixture<AppFixture>
{
    static readonly string Long = new('x', 6000);

    [Theory]
    [InlineData("a charset")]
    [InlineData("a content coding")]
    [InlineData("a JSON property name")]
    [InlineData("an unknown route")]
    [InlineData("a method's path")]
    [InlineData("a method")]
    [InlineData("an unsatisfiable range")]
    public async Task A_long_input_quoted_back_in_an_error_is_cut_short(string what)
    {
        var (status, body) = await SendWithLongAsync(what);

        Assert.InRange(status, 400, 499);
        Assert.Contains("characters)", body); // Echo's mark of a value cut short
        Assert.True(body.Length < 1000, $"{what}: {body.Length} characters answered");
    }

    async Task<(int Status, string Body)> SendWithLongAsync(string what)
    {
        if (what == "an unsatisfiable range")
        {
            // As a server receives it: HttpClient would send this Range without its spaces.
            var path = new Uri((await app.GenerateAsync(new { prompt = "a range of nothing" })).GetProperty("imageUrl").GetString()!).AbsolutePath;
            var context = await app.App.Server.SendAsync(c =>
            {
                c.Request.Path = path;
                c.Request.Headers.Range = $"bytes={new string(' ', Long.Length)}{int.MaxValue}-";
            });
            return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync());
        }
        var response = await app.Client.SendAsync(RequestWithLong(what));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    static HttpRequestMessage RequestWithLong(string what)
    {
        HttpRequestMessage Generate(string json)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json)) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return request;
        }
        switch (what)
        {
            case "a charset":
                var charset = Generate("""{"prompt":"x"}""");
                charset.Content!.Headers.Remove("Content-Type");
                charset.Content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={Long}");
                return charset;
            case "a content coding":
                var coded = Generate("""{"prompt":"x"}""");
                coded.Content!.Headers.TryAddWithoutValidation("Content-Encoding", Long);
                return coded;
            case "a JSON property name":
                return Generate($$"""{"prompt":"x","{{Long}}":"\ud800"}""");
            case "an unknown route":
                return new HttpRequestMessage(HttpMethod.Get, $"/api/{Long}");
            case "a method's path":
                return new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/files/{Long}");
            default:
                return new HttpRequestMessage(new HttpMethod(Long), "/api/healthz");
        }
    }
}

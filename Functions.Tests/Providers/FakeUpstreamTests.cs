using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>
/// A fake upstream on its own, called directly: what the tests that pin a fake's strictness share. Each fake must refuse
/// what its provider's contract refuses, in the provider's error shape, so that a client sending it fails its tests.
/// </summary>
public abstract class FakeUpstreamTests<TFake> : IAsyncLifetime where TFake : FakeUpstream, new()
{
    protected TFake Fake { get; } = new();
    readonly HttpClient _client = new();

    /// <summary>POSTs <paramref name="content"/> to <paramref name="path"/> with <paramref name="auth"/> (a header name and value).</summary>
    protected Task<HttpResponseMessage> PostAsync(string path, HttpContent content, (string Name, string Value) auth)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Fake.BaseUrl + path) { Content = content };
        request.Headers.TryAddWithoutValidation(auth.Name, auth.Value);
        return _client.SendAsync(request);
    }

    /// <summary>GETs <paramref name="url"/>, with <paramref name="auth"/> if given, reading no more than the headers.</summary>
    protected Task<HttpResponseMessage> GetAsync(string url, (string Name, string Value)? auth = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (auth is var (name, value)) request.Headers.TryAddWithoutValidation(name, value);
        return _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    protected static HttpContent Json(JsonObject body) => JsonContent.Create(body);

    /// <summary>JSON that says it is something else (as a client that forgets the content type sends it).</summary>
    protected static HttpContent JsonAsText(JsonObject body) => new StringContent(body.ToJsonString(), new MediaTypeHeaderValue("text/plain"));

    /// <summary>The error body of a refusal, after checking its status.</summary>
    protected static async Task<JsonElement> RefusalAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}, not {(int)status}: {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    /// <summary>Checks that <see cref="FakeUpstream.Fail"/> refuses a fault the fake does not show at <paramref name="path"/>, naming both.</summary>
    protected void AssertRefused(string path, Fault fault)
    {
        var refused = Assert.Throws<ArgumentException>(() => Fake.Fail(path, fault));
        Assert.Contains(fault.ToString(), refused.Message);
        Assert.Contains(typeof(TFake).Name, refused.Message);
    }

    /// <summary>
    /// A fault set on <paramref name="path"/> comes after the request is checked and waits for one the fake takes: a body
    /// without <paramref name="required"/> gets the fake's refusal (returned, for its shape), the next valid body the
    /// fault's <paramref name="faultStatus"/>, and the one after that the usual 200.
    /// </summary>
    protected async Task<JsonElement> AssertFaultWaitsForARequestTakenAsync(string path, (string Name, string Value) auth, JsonObject valid,
        string required, Fault fault, HttpStatusCode faultStatus)
    {
        Fake.Fail(path, fault, times: 1);
        var incomplete = valid.DeepClone().AsObject();
        incomplete.Remove(required);

        var refused = await RefusalAsync(await PostAsync(path, Json(incomplete), auth));

        Assert.Equal(faultStatus, (await PostAsync(path, Json(valid), auth)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(path, Json(valid), auth)).StatusCode);
        return refused;
    }

    /// <summary>A JSON body that names <paramref name="member"/> twice, as a hand-built body can.</summary>
    protected static HttpContent JsonNamingTwice(JsonObject body, string member)
    {
        var json = body.ToJsonString();
        return new StringContent(json.Insert(json.Length - 1, $",\"{member}\":{body[member]!.ToJsonString()}"), System.Text.Encoding.UTF8, "application/json");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Fake.DisposeAsync();
    }
}

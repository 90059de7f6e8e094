using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text;
using Functions.Contracts.Kioai;

namespace Functions.Generation.Providers;

/// <summary>The shared call of the JSON image APIs (SiliconFlow, OpenAI-compatible): a Bearer POST to images/generations.</summary>
static class JsonImageApi
{
    public static async Task<(UpstreamResponse Response, JsonObject? Json, ApiDebugInfo Debug)> PostAsync(
        UpstreamHttp http, string provider, string baseUrl, ProviderCall call, JsonObject body, CancellationToken cancellationToken)
    {
        var url = $"{baseUrl.TrimEnd('/')}/{(call.Entry.Endpoint ?? "images/generations").Trim('/')}";
        var payload = Encoding.UTF8.GetBytes(body.ToJsonString());
        var response = await http.SendAsync(provider, () =>
        {
            var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Token);
            return message;
        }, cancellationToken);
        var json = response.Json(call.Token);
        var debug = ApiDebugRedaction.Create(url, "POST", [KeyValuePair.Create("Authorization", "Bearer " + call.Token)], body,
            (int)response.Status, json ?? new JsonObject { ["body"] = $"<{response.Body.Length} bytes, not a JSON object>" }, response.Duration);
        if (response.IsSuccess && json is null) throw UpstreamFailures.Malformed(provider, UpstreamResponse.Unreadable);
        return (response, json, debug);
    }

    public static string DataUrl(ReadOnlyMemory<byte> image) =>
        $"data:{ImageInspector.ReadHeader(image.Span)?.ContentType ?? "application/octet-stream"};base64,{Convert.ToBase64String(image.Span)}";
}

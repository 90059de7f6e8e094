using System.Buffers;
using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text;
using System.Text.Json;
using Functions.Contracts.Kioai;

namespace Functions.Generation.Providers;

/// <summary>The shared call of the JSON image APIs (SiliconFlow, OpenAI-compatible): a Bearer POST to images/generations.</summary>
static class JsonImageApi
{
    public static async Task<(UpstreamResponse Response, JsonObject? Json, ApiDebugInfo Debug)> PostAsync(
        UpstreamHttp http, string provider, string baseUrl, ProviderCall call, JsonObject body, CancellationToken cancellationToken,
        ImageMember? image = null)
    {
        var url = $"{baseUrl.TrimEnd('/')}/{(call.Entry.Endpoint ?? "images/generations").Trim('/')}";
        var payload = Payload(body, image);
        var response = await http.SendAsync(provider, () =>
        {
            var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(payload) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Token);
            return message;
        }, cancellationToken);
        var json = response.Json(call.Token);
        // apiDebug shows the image as its size, as the redaction would have shown its Base64.
        if (image is { } shown) body[shown.Name] = ApiDebugRedaction.Base64Note(shown.Bytes.Length);
        var debug = ApiDebugRedaction.Create(url, "POST", [KeyValuePair.Create("Authorization", "Bearer " + call.Token)], body,
            (int)response.Status, json ?? new JsonObject { ["body"] = $"<{response.Body.Length} bytes, not a JSON object>" }, response.Duration);
        if (response.IsSuccess && json is null) throw UpstreamFailures.Malformed(provider, UpstreamResponse.Unreadable);
        return (response, json, debug);
    }

    /// <summary>An image sent as a Base64 data URL in the member <paramref name="Name"/> of the request body.</summary>
    public sealed record ImageMember(string Name, ReadOnlyMemory<byte> Bytes);

    /// <summary>
    /// The body's UTF-8, the image's data URL written straight into it. Built as a .NET string (the data URL), then the
    /// body as another and its UTF-8 after that, 50 Kolors generations at once with a 9.4 MB reference took the local
    /// host to 3.1 to 3.3 GB, and under a 1 GiB heap limit 95 of 100 failed out of memory.
    /// </summary>
    static ReadOnlyMemory<byte> Payload(JsonObject body, ImageMember? image)
    {
        var output = new ArrayBufferWriter<byte>(4096 + (image is null ? 0 : Base64.GetMaxEncodedToUtf8Length(image.Bytes.Length) + 64));
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in body)
            {
                writer.WritePropertyName(name);
                if (value is null) writer.WriteNullValue();
                else value.WriteTo(writer);
            }
            if (image is not null)
            {
                writer.WritePropertyName(image.Name);
                writer.WriteRawValue(QuotedDataUrl(image.Bytes.Span), skipInputValidation: true); // Base64 and a media type: nothing to escape
            }
            writer.WriteEndObject();
        }
        return output.WrittenMemory;
    }

    static byte[] QuotedDataUrl(ReadOnlySpan<byte> image)
    {
        var prefix = Encoding.ASCII.GetBytes($"\"data:{ImageInspector.ReadHeader(image)?.ContentType ?? "application/octet-stream"};base64,");
        var quoted = new byte[prefix.Length + Base64.GetMaxEncodedToUtf8Length(image.Length) + 1];
        prefix.CopyTo(quoted, 0);
        Base64.EncodeToUtf8(image, quoted.AsSpan(prefix.Length), out _, out var written);
        quoted[prefix.Length + written] = (byte)'"';
        return quoted;
    }
}

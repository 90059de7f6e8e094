using Azure;
using System.Text.Json;
using System.Xml.Linq;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Storage;

/// <summary>Sends one storage request and turns any status not expected into a <see cref="StorageException"/>.</summary>
static class StorageCalls
{
    public static async Task<Response> SendAsync(
        HttpPipeline pipeline, RequestMethod method, Uri uri, Action<Request>? configure,
        CancellationToken cancellationToken, bool buffer = true, params int[] expected)
    {
        var message = pipeline.CreateMessage();
        message.BufferResponse = buffer;
        message.Request.Method = method;
        message.Request.Uri.Reset(uri);
        configure?.Invoke(message.Request);
        try
        {
            await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AggregateException or RequestFailedException or HttpRequestException or IOException
                                  && !cancellationToken.IsCancellationRequested)
        {
            // Retries exhausted without an answer: Azure.Core reports this as an AggregateException of transport errors.
            throw new StorageException(0, "StorageUnreachable", $"{method} {uri.GetLeftPart(UriPartial.Path)}: {e.Message}");
        }

        var response = message.Response;
        if (expected.Contains(response.Status)) return response;
        throw await ErrorOfAsync(response).ConfigureAwait(false);
    }

    static async Task<StorageException> ErrorOfAsync(Response response)
    {
        response.Headers.TryGetValue("x-ms-error-code", out var code);
        string body;
        if (response.ContentStream is { } stream)
        {
            using var reader = new StreamReader(stream);
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }
        else body = "";
        var (bodyCode, message) = ParseErrorBody(body);
        response.Dispose();
        return new StorageException(response.Status, code ?? bodyCode, message ?? response.ReasonPhrase);
    }

    // Blob and Queue answer XML <Error><Code/><Message/></Error>; Table answers OData JSON.
    static (string? Code, string? Message) ParseErrorBody(string body)
    {
        if (string.IsNullOrWhiteSpace(body)) return (null, null);
        try
        {
            if (body.TrimStart().StartsWith('<'))
            {
                var root = XDocument.Parse(body).Root;
                return (root?.Element("Code")?.Value, root?.Element("Message")?.Value);
            }
            using var json = JsonDocument.Parse(body);
            var error = json.RootElement.TryGetProperty("odata.error", out var odata) ? odata
                : json.RootElement.TryGetProperty("error", out var plain) ? plain : default;
            if (error.ValueKind != JsonValueKind.Object) return (null, body);
            var code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
            var message = error.TryGetProperty("message", out var m)
                ? m.ValueKind == JsonValueKind.Object && m.TryGetProperty("value", out var v) ? v.GetString() : m.ToString()
                : null;
            return (code, message);
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException)
        {
            return (null, body.Length > 300 ? body[..300] : body);
        }
    }

    public static string? ETagOf(Response response) =>
        response.Headers.TryGetValue("ETag", out var etag) ? etag : null;
}

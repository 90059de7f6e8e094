using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Tests.Storage;

/// <summary>
/// Stands in for a storage account, or for part of one: keeps every request sent and answers each with what
/// <paramref name="answer"/> says (status and body), or, where it says null, lets the request through to the real service.
/// </summary>
public sealed class RecordingTransport(Func<Request, (int Status, string Body)?> answer) : HttpPipelineTransport
{
    public List<(string Host, string? Authorization, string? Version)> Requests { get; } = [];

    /// <summary>An error as each service writes it: Table in OData JSON, Blob and Queue in XML.</summary>
    public static (int Status, string Body)? Error(Request request, int status, string message) =>
        request.Headers.TryGetValue("Accept", out var accept) && accept.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? (status, $"{{\"odata.error\":{{\"code\":\"Refused\",\"message\":{{\"lang\":\"en-US\",\"value\":\"{message}\"}}}}}}")
            : (status, $"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>Refused</Code><Message>{message}</Message></Error>");

    public override Request CreateRequest() => HttpClientTransport.Shared.CreateRequest();

    public override void Process(HttpMessage message) => ProcessAsync(message).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.TryGetValue("Authorization", out var authorization);
        request.Headers.TryGetValue("x-ms-version", out var version);
        lock (Requests) Requests.Add((request.Uri.Host!, authorization, version));
        if (answer(request) is { } canned) message.Response = new CannedResponse(canned.Status, canned.Body);
        else await HttpClientTransport.Shared.ProcessAsync(message);
    }

    sealed class CannedResponse(int status, string body) : Response
    {
        public override int Status => status;
        public override string ReasonPhrase => "";
        public override Stream? ContentStream { get; set; } = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body));
        public override string ClientRequestId { get; set; } = "";
        public override void Dispose() { }
        protected override bool TryGetHeader(string name, out string value)
        {
            value = name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && body.Length > 0
                ? (body.StartsWith('<') ? "application/xml" : "application/json")
                : "";
            return value.Length > 0;
        }
        protected override bool TryGetHeaderValues(string name, out IEnumerable<string> values)
        {
            var found = TryGetHeader(name, out var value);
            values = found ? [value] : [];
            return found;
        }
        protected override bool ContainsHeader(string name) => TryGetHeader(name, out _);
        protected override IEnumerable<HttpHeader> EnumerateHeaders() =>
            TryGetHeader("Content-Type", out var type) ? [new HttpHeader("Content-Type", type)] : [];
    }
}

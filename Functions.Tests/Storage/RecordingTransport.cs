using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Functions.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Storage;

/// <summary>
/// Stands in for a storage account, or for part of one: keeps every request sent and answers each with what
/// <paramref name="answer"/> says (status and body), or, where it says null, lets the request through to the real service.
/// Where <paramref name="afterSending"/> says an answer, the request goes through first and its answer is replaced: a
/// write that landed, whose answer was lost on the way back. Where <paramref name="hangs"/> says so, no answer comes
/// until the request is canceled: storage that stopped answering.
/// </summary>
public sealed class RecordingTransport(Func<Request, (int Status, string Body)?> answer, Func<Request, (int Status, string Body)?>? afterSending = null,
    Func<Request, bool>? hangs = null)
    : HttpPipelineTransport
{
    public List<(string Host, string? Authorization, string? Version)> Requests { get; } = [];

    /// <summary>An error as each service writes it: Table in OData JSON, Blob and Queue in XML.</summary>
    public static (int Status, string Body)? Error(Request request, int status, string message) =>
        request.Headers.TryGetValue("Accept", out var accept) && accept.Contains("json", StringComparison.OrdinalIgnoreCase)
            ? (status, $"{{\"odata.error\":{{\"code\":\"Refused\",\"message\":{{\"lang\":\"en-US\",\"value\":\"{message}\"}}}}}}")
            : (status, $"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>Refused</Code><Message>{message}</Message></Error>");

    /// <summary>The app's storage registration on <paramref name="connectionString"/>, every request of its clients going through this transport.</summary>
    public ServiceProvider AppStorage(string connectionString)
    {
        var collection = new ServiceCollection().AddLogging().AddAppStorage(IdentityAuthTests.Settings(("AzureWebJobsStorage", connectionString)));
        collection.AddAzureClients(clients => clients.ConfigureDefaults(options => options.Transport = this));
        return collection.BuildServiceProvider();
    }

    /// <summary>A Table entity-group transaction (every history write is one).</summary>
    public static bool IsTableTransaction(Request request) =>
        request.Method == RequestMethod.Post && request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal);

    public override Request CreateRequest() => HttpClientTransport.Shared.CreateRequest();

    public override void Process(HttpMessage message) => ProcessAsync(message).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.TryGetValue("Authorization", out var authorization);
        request.Headers.TryGetValue("x-ms-version", out var version);
        lock (Requests) Requests.Add((request.Uri.Host!, authorization, version));
        if (hangs?.Invoke(request) == true) await Task.Delay(Timeout.Infinite, message.CancellationToken);
        if (answer(request) is { } canned)
        {
            message.Response = new CannedResponse(canned.Status, canned.Body);
            return;
        }
        await HttpClientTransport.Shared.ProcessAsync(message);
        if (afterSending?.Invoke(request) is { } lost) message.Response = new CannedResponse(lost.Status, lost.Body);
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

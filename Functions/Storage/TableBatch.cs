using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Functions.Storage;

/// <summary>The multipart/mixed wire format of a Table entity-group transaction ("Performing entity group transactions").</summary>
static partial class TableBatch
{
    public sealed record Built(string Boundary, string Body);
    public sealed record Result(int Status, string? ETag, string? ErrorCode, string? Message);

    public static Built Build(Uri endpoint, string table, IReadOnlyList<TableBatchOperation> operations)
    {
        var id = Guid.NewGuid().ToString("N");
        var batchBoundary = "batch_" + id;
        var changesetBoundary = "changeset_" + id;
        var body = new StringBuilder()
            .Append($"--{batchBoundary}\r\n")
            .Append($"Content-Type: multipart/mixed; boundary={changesetBoundary}\r\n\r\n");

        foreach (var operation in operations)
        {
            var entity = operation.Entity;
            var (method, url) = operation.Kind switch
            {
                TableBatchKind.Insert => ("POST", new Uri(endpoint, Uri.EscapeDataString(table))),
                TableBatchKind.Replace => ("PUT", new Uri(endpoint, TableStorage.EntityPath(table, entity.PartitionKey, entity.RowKey))),
                TableBatchKind.Merge => ("MERGE", new Uri(endpoint, TableStorage.EntityPath(table, entity.PartitionKey, entity.RowKey))),
                _ => ("DELETE", new Uri(endpoint, TableStorage.EntityPath(table, entity.PartitionKey, entity.RowKey))),
            };
            body.Append($"--{changesetBoundary}\r\n")
                .Append("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
                .Append($"{method} {url.AbsoluteUri} HTTP/1.1\r\n")
                .Append("Accept: application/json;odata=minimalmetadata\r\nDataServiceVersion: 3.0;\r\n");
            if (operation.Kind == TableBatchKind.Insert) body.Append("Prefer: return-no-content\r\n");
            if (operation.Kind != TableBatchKind.Insert) body.Append($"If-Match: {operation.IfMatch ?? "*"}\r\n");

            if (operation.Kind == TableBatchKind.Delete)
            {
                body.Append("\r\n");
                continue;
            }
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer)) entity.WriteJson(writer);
            body.Append("Content-Type: application/json\r\n\r\n")
                .Append(Encoding.UTF8.GetString(buffer.WrittenSpan)).Append("\r\n");
        }
        body.Append($"--{changesetBoundary}--\r\n--{batchBoundary}--\r\n");
        return new Built(batchBoundary, body.ToString());
    }

    /// <summary>Each sub-response's status and ETag, in order; a failed transaction answers with the failing one only.</summary>
    public static List<Result> ParseResponse(string body)
    {
        var results = new List<Result>();
        foreach (Match match in SubResponse().Matches(body))
        {
            var status = int.Parse(match.Groups["status"].Value);
            var rest = match.Groups["rest"].Value;
            var etag = ETagHeader().Match(rest) is { Success: true } e ? e.Groups[1].Value.Trim() : null;
            string? code = null, message = null;
            if (status >= 300 && rest.IndexOf('{') is var start and >= 0)
            {
                try
                {
                    using var json = JsonDocument.Parse(rest[start..(rest.LastIndexOf('}') + 1)]);
                    var error = json.RootElement.GetProperty("odata.error");
                    code = error.GetProperty("code").GetString();
                    message = error.GetProperty("message").GetProperty("value").GetString();
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException) { }
            }
            results.Add(new Result(status, etag, code, message));
        }
        return results;
    }

    [GeneratedRegex(@"HTTP/1\.1 (?<status>\d{3})[^\r\n]*\r?\n(?<rest>.*?)(?=\r?\n--changesetresponse|\r?\n--batchresponse|$)", RegexOptions.Singleline)]
    private static partial Regex SubResponse();

    [GeneratedRegex(@"^ETag:\s*(.+)$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex ETagHeader();
}

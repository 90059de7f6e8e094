using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Storage;

/// <summary>
/// Signs each attempt with the account key: SharedKey for Blob and Queue, SharedKeyLite for Table
/// (the string-to-sign formats of the Azure Storage "Authorize with Shared Key" reference).
/// </summary>
sealed class SharedKeyPolicy(StorageService service, string accountName, byte[] accountKey) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        var date = DateTimeOffset.UtcNow.ToString("r");
        request.Headers.SetValue("x-ms-date", date);

        var stringToSign = service == StorageService.Table
            ? $"{date}\n{CanonicalResource(request.Uri.ToUri(), tableStyle: true)}"
            : BlobOrQueueStringToSign(request);

        using var hmac = new HMACSHA256(accountKey);
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
        var scheme = service == StorageService.Table ? "SharedKeyLite" : "SharedKey";
        request.Headers.SetValue("Authorization", $"{scheme} {accountName}:{signature}");
    }

    string BlobOrQueueStringToSign(Request request)
    {
        string Header(string name) => request.Headers.TryGetValue(name, out var value) ? value : "";
        var length = request.Content is not null && request.Content.TryComputeLength(out var n) && n > 0 ? n.ToString() : "";

        var builder = new StringBuilder()
            .Append(request.Method.Method).Append('\n')
            .Append(Header("Content-Encoding")).Append('\n')
            .Append(Header("Content-Language")).Append('\n')
            .Append(length).Append('\n')
            .Append(Header("Content-MD5")).Append('\n')
            .Append(Header("Content-Type")).Append('\n')
            .Append('\n') // Date: x-ms-date is signed instead
            .Append(Header("If-Modified-Since")).Append('\n')
            .Append(Header("If-Match")).Append('\n')
            .Append(Header("If-None-Match")).Append('\n')
            .Append(Header("If-Unmodified-Since")).Append('\n')
            .Append(Header("Range")).Append('\n');

        foreach (var header in request.Headers
                     .Where(h => h.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                     .Select(h => (Name: h.Name.ToLowerInvariant(), Value: h.Value.Trim()))
                     .OrderBy(h => h.Name, StringComparer.Ordinal))
            builder.Append(header.Name).Append(':').Append(header.Value).Append('\n');

        builder.Append(CanonicalResource(request.Uri.ToUri(), tableStyle: false));
        return builder.ToString();
    }

    string CanonicalResource(Uri uri, bool tableStyle)
    {
        var resource = new StringBuilder("/").Append(accountName).Append(uri.AbsolutePath);
        var query = ParseQuery(uri.Query);
        if (tableStyle)
        {
            // SharedKeyLite for Table signs only the comp parameter.
            if (query.TryGetValue("comp", out var comp)) resource.Append("?comp=").Append(string.Join(",", comp));
            return resource.ToString();
        }

        foreach (var (name, values) in query.OrderBy(q => q.Key, StringComparer.Ordinal))
            resource.Append('\n').Append(name).Append(':').Append(string.Join(",", values.Order(StringComparer.Ordinal)));
        return resource.ToString();
    }

    static Dictionary<string, List<string>> ParseQuery(string query)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var name = Uri.UnescapeDataString(parts[0]).ToLowerInvariant();
            var value = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
            if (!result.TryGetValue(name, out var values)) result[name] = values = [];
            values.Add(value);
        }
        return result;
    }
}

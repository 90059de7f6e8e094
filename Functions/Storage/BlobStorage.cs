using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using System.Xml.Linq;

namespace Functions.Storage;

public sealed record BlobDownload(
    int Status, Stream Content, string ContentType, long ContentLength, string? ContentRange,
    string? ETag, DateTimeOffset? LastModified, IReadOnlyDictionary<string, string> Metadata) : IDisposable
{
    public void Dispose() => Content.Dispose();
}

public sealed record BlobProperties(string ContentType, long ContentLength, string? ETag, IReadOnlyDictionary<string, string> Metadata);

public sealed record BlobItem(string Name, BlobProperties Properties);

/// <summary>One page of a listing, in name order; pass <see cref="NextMarker"/> back for the next page.</summary>
public sealed record BlobPage(IReadOnlyList<BlobItem> Blobs, string? NextMarker);

/// <summary>The Blob REST operations the app uses: containers, block blobs, ranged reads, deletes.</summary>
public sealed class BlobStorage(StoragePipelines pipelines)
{
    readonly HttpPipeline _pipeline = pipelines.Create(StorageService.Blob);
    readonly Uri _endpoint = pipelines.Account.BlobEndpoint;

    public async Task CreateContainerIfNotExistsAsync(string container, CancellationToken cancellationToken = default)
    {
        try
        {
            using var _ = await StorageCalls.SendAsync(_pipeline, RequestMethod.Put, Url(container, null, "restype=container"),
                null, cancellationToken, expected: 201).ConfigureAwait(false);
        }
        catch (StorageException e) when (e.ErrorCode == "ContainerAlreadyExists") { }
    }

    /// <summary>Writes a whole block blob (create or overwrite) and returns its ETag.</summary>
    public async Task<string?> UploadAsync(string container, string name, ReadOnlyMemory<byte> content, string contentType,
        IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        using var response = await StorageCalls.SendAsync(_pipeline, RequestMethod.Put, Url(container, name), request =>
        {
            request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
            request.Headers.SetValue("Content-Type", contentType);
            foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
                request.Headers.SetValue("x-ms-meta-" + key, value);
            request.Content = RequestContent.Create(content);
        }, cancellationToken, expected: 201).ConfigureAwait(false);
        return StorageCalls.ETagOf(response);
    }

    /// <summary>Streams a blob (or a byte range of it); null when it does not exist. Status 304 when <paramref name="ifNoneMatch"/> matches.</summary>
    public async Task<BlobDownload?> DownloadAsync(string container, string name, string? range = null, string? ifNoneMatch = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await StorageCalls.SendAsync(_pipeline, RequestMethod.Get, Url(container, name), request =>
            {
                if (range is not null) request.Headers.SetValue("x-ms-range", range);
                if (ifNoneMatch is not null) request.Headers.SetValue("If-None-Match", ifNoneMatch);
            }, cancellationToken, buffer: false, expected: [200, 206, 304]).ConfigureAwait(false);

            response.Headers.TryGetValue("Content-Range", out var contentRange);
            response.Headers.TryGetValue("Last-Modified", out var lastModified);
            return new BlobDownload(
                response.Status,
                response.ContentStream ?? Stream.Null,
                response.Headers.ContentType ?? "application/octet-stream",
                response.Headers.ContentLength ?? 0,
                contentRange,
                StorageCalls.ETagOf(response),
                DateTimeOffset.TryParse(lastModified, out var modified) ? modified : null,
                MetadataOf(response));
        }
        catch (StorageException e) when (e.IsNotFound) { return null; }
    }

    public async Task<BlobProperties?> GetPropertiesAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await StorageCalls.SendAsync(_pipeline, RequestMethod.Head, Url(container, name), null,
                cancellationToken, expected: 200).ConfigureAwait(false);
            return new BlobProperties(response.Headers.ContentType ?? "application/octet-stream",
                response.Headers.ContentLength ?? 0, StorageCalls.ETagOf(response), MetadataOf(response));
        }
        catch (StorageException e) when (e.IsNotFound) { return null; }
    }

    /// <summary>Lists blobs (with their properties and metadata) whose names start with <paramref name="prefix"/>, in name order.</summary>
    public async Task<BlobPage> ListAsync(string container, string? prefix, string? marker, int maxResults,
        CancellationToken cancellationToken = default)
    {
        var query = $"restype=container&comp=list&include=metadata&maxresults={Math.Clamp(maxResults, 1, 5000)}";
        if (prefix is not null) query += "&prefix=" + Uri.EscapeDataString(prefix);
        if (marker is not null) query += "&marker=" + Uri.EscapeDataString(marker);
        using var response = await StorageCalls.SendAsync(_pipeline, RequestMethod.Get, Url(container, null, query), null,
            cancellationToken, expected: 200).ConfigureAwait(false);

        var root = XDocument.Parse(response.Content.ToString()).Root!;
        var blobs = root.Element("Blobs")?.Elements("Blob").Select(blob =>
        {
            var properties = blob.Element("Properties");
            return new BlobItem(blob.Element("Name")!.Value, new BlobProperties(
                properties?.Element("Content-Type")?.Value ?? "application/octet-stream",
                long.TryParse(properties?.Element("Content-Length")?.Value, out var length) ? length : 0,
                properties?.Element("Etag")?.Value,
                blob.Element("Metadata")?.Elements().ToDictionary(m => m.Name.LocalName.ToLowerInvariant(), m => m.Value)
                ?? new Dictionary<string, string>()));
        }).ToList() ?? [];
        return new BlobPage(blobs, root.Element("NextMarker")?.Value is { Length: > 0 } next ? next : null);
    }

    /// <summary>Deletes a blob; false when there was none.</summary>
    public async Task<bool> DeleteAsync(string container, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            using var _ = await StorageCalls.SendAsync(_pipeline, RequestMethod.Delete, Url(container, name), null,
                cancellationToken, expected: 202).ConfigureAwait(false);
            return true;
        }
        catch (StorageException e) when (e.IsNotFound) { return false; }
    }

    static Dictionary<string, string> MetadataOf(Response response) =>
        response.Headers
            .Where(h => h.Name.StartsWith("x-ms-meta-", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Name["x-ms-meta-".Length..].ToLowerInvariant(), h => h.Value);

    Uri Url(string container, string? name, string? query = null)
    {
        var path = Uri.EscapeDataString(container) + (name is null ? "" : "/" + string.Join('/', name.Split('/').Select(Uri.EscapeDataString)));
        return new Uri(_endpoint, path + (query is null ? "" : "?" + query));
    }
}

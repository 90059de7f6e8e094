using System.Globalization;
using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Functions.Storage;

namespace Functions.Files;

/// <summary>
/// Files are blobs named by their id in the images container; the blob's content type, length and metadata are the
/// file record, so one write stores a file and one read serves it.
/// </summary>
public sealed partial class FileStore([FromKeyedServices(StorageNames.FilesContainer)] BlobContainerClient container)
{
    const string FilenameKey = "filename";
    const string CreatedKey = "created";
    const string PrivateKey = "private";
    /// <summary>The metadata key naming the job that made a generated file.</summary>
    public const string JobKey = "job";

    public async Task<StoredFile> SaveAsync(string fileId, ReadOnlyMemory<byte> bytes, string contentType, string filename,
        DateTimeOffset createdAt, bool isPrivate, IReadOnlyDictionary<string, string>? meta = null, CancellationToken cancellationToken = default)
    {
        var metadata = new Dictionary<string, string>(meta ?? new Dictionary<string, string>())
        {
            [FilenameKey] = filename,
            [CreatedKey] = createdAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            [PrivateKey] = isPrivate ? "true" : "false",
        };
        await container.GetBlobClient(fileId).UploadAsync(BinaryData.FromBytes(bytes),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType }, Metadata = metadata }, cancellationToken);
        return new StoredFile(fileId, filename, contentType, bytes.Length, createdAt, isPrivate, meta ?? new Dictionary<string, string>());
    }

    /// <summary>
    /// Streams a file, or the one byte range <paramref name="range"/> names ("bytes=0-99", "bytes=100-", "bytes=-500");
    /// null when it does not exist. An unsatisfiable range throws a <see cref="RequestFailedException"/> with status 416.
    /// </summary>
    public async Task<FileDownload?> OpenAsync(string fileId, string? range, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        var blob = container.GetBlobClient(fileId);
        try
        {
            var options = new BlobDownloadOptions
            {
                Range = await RangeOfAsync(blob, range, cancellationToken),
                Conditions = ifNoneMatch is null ? null : new BlobRequestConditions { IfNoneMatch = new ETag(ifNoneMatch) },
            };
            var download = await blob.DownloadStreamingAsync(options, cancellationToken);
            if (download.GetRawResponse() is { Status: StatusCodes.Status304NotModified } notModified) return NotModified(notModified, ifNoneMatch!);
            var details = download.Value.Details;
            return new FileDownload(download.GetRawResponse().Status, download.Value.Content ?? Stream.Null,
                details.ContentType ?? "application/octet-stream", details.ContentLength, details.ContentRange,
                details.ETag.ToString(), details.LastModified, MetadataOf(details.Metadata));
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    // A 304 has no body, so the SDK gives no download details: what it has is in the headers. Without an ETag among
    // them (the emulator sends none), the one tag the client sent is the file's, since it matched.
    static FileDownload NotModified(Response response, string ifNoneMatch) => new(StatusCodes.Status304NotModified, Stream.Null,
        "application/octet-stream", 0, null,
        response.Headers.ETag?.ToString() ?? (ifNoneMatch.Contains(',') || ifNoneMatch.Trim() == "*" ? null : ifNoneMatch.Trim()),
        response.Headers.TryGetValue("Last-Modified", out var modified) && DateTimeOffset.TryParse(modified, CultureInfo.InvariantCulture, out var at) ? at : null,
        response.Headers.Where(h => h.Name.StartsWith("x-ms-meta-", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Name["x-ms-meta-".Length..].ToLowerInvariant(), h => h.Value));

    // Blob storage takes an offset and a length; a suffix range ("the last n bytes") needs the blob's size first.
    // Digits too long for a number are past any end: a first byte that far is unsatisfiable, a last byte or suffix that far is the end.
    static async Task<HttpRange> RangeOfAsync(BlobClient blob, string? range, CancellationToken cancellationToken)
    {
        if (range is null || ByteRange().Match(range) is not { Success: true } match) return default;
        if (match.Groups["first"].Success)
        {
            if (!long.TryParse(match.Groups["first"].ValueSpan, CultureInfo.InvariantCulture, out var first)) throw Unsatisfiable(range);
            if (!match.Groups["last"].Success || !long.TryParse(match.Groups["last"].ValueSpan, CultureInfo.InvariantCulture, out var last))
                return new HttpRange(first);
            return last >= first ? new HttpRange(first, last - first + 1) : default; // last before first: not a range, the whole file
        }
        var suffix = long.TryParse(match.Groups["suffix"].ValueSpan, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue;
        var size = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.ContentLength;
        if (suffix == 0 || size == 0) throw Unsatisfiable(range);
        return new HttpRange(Math.Max(0, size - suffix), Math.Min(suffix, size));
    }

    static RequestFailedException Unsatisfiable(string range) =>
        new(StatusCodes.Status416RangeNotSatisfiable, $"Range {range} selects no byte of the file.");

    public async Task<byte[]?> ReadAllAsync(string fileId, CancellationToken cancellationToken)
    {
        try
        {
            return (await container.GetBlobClient(fileId).DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    public async Task<StoredFile?> GetAsync(string fileId, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await container.GetBlobClient(fileId).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return FromBlob(fileId, properties.ContentType, properties.ContentLength, properties.Metadata);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> files newest first (file ids sort that way) that <paramref name="visible"/> lets
    /// through, from <paramref name="marker"/> on; the marker for the next page is null on the last one.
    /// </summary>
    public async Task<(IReadOnlyList<StoredFile> Files, string? NextMarker)> ListAsync(string? marker, int limit,
        Func<StoredFile, bool> visible, CancellationToken cancellationToken)
    {
        var found = new List<StoredFile>();
        var listing = new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = "file_" };
        do
        {
            // Ask for no more than the page still needs, so that the marker never skips a file.
            await foreach (var page in container.GetBlobsAsync(listing, cancellationToken).AsPages(marker, limit - found.Count))
            {
                found.AddRange(page.Values.Select(b => FromBlob(b.Name, b.Properties.ContentType, b.Properties.ContentLength ?? 0, b.Metadata))
                    .Where(visible));
                marker = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
                break;
            }
        } while (marker is not null && found.Count < limit);
        return (found, marker);
    }

    static StoredFile FromBlob(string fileId, string? contentType, long length, IDictionary<string, string>? metadata)
    {
        var meta = MetadataOf(metadata);
        var created = long.TryParse(meta.GetValueOrDefault(CreatedKey), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch;
        return new StoredFile(fileId, meta.GetValueOrDefault(FilenameKey, fileId), contentType ?? "application/octet-stream", length, created,
            meta.GetValueOrDefault(PrivateKey) == "true",
            meta.Where(m => m.Key is not (FilenameKey or CreatedKey or PrivateKey)).ToDictionary());
    }

    // Metadata names are case-insensitive in storage; ours are written lower-case and read back the same way.
    static Dictionary<string, string> MetadataOf(IDictionary<string, string>? metadata) =>
        metadata?.ToDictionary(m => m.Key.ToLowerInvariant(), m => m.Value) ?? [];

    public async Task<bool> DeleteAsync(string fileId, CancellationToken cancellationToken) =>
        await container.GetBlobClient(fileId).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    /// <summary>Whether a file may be served to anyone holding its URL; private files carry Cache-Control private.</summary>
    public static bool IsPrivate(FileDownload download) => download.Metadata.GetValueOrDefault(PrivateKey) == "true";

    [GeneratedRegex(@"^bytes=(?:(?<first>\d+)-(?<last>\d+)?|-(?<suffix>\d+))$")]
    private static partial Regex ByteRange();
}

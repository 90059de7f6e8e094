using System.Globalization;
using Functions.Storage;

namespace Functions.Files;

/// <summary>
/// Files are blobs named by their id in the images container; the blob's content type, length and metadata are the
/// file record, so one write stores a file and one read serves it.
/// </summary>
public sealed class FileStore(BlobStorage blobs)
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
        await blobs.UploadAsync(StorageNames.FilesContainer, fileId, bytes, contentType, metadata, cancellationToken);
        return new StoredFile(fileId, filename, contentType, bytes.Length, createdAt, isPrivate, meta ?? new Dictionary<string, string>());
    }

    public Task<BlobDownload?> OpenAsync(string fileId, string? range, string? ifNoneMatch, CancellationToken cancellationToken) =>
        blobs.DownloadAsync(StorageNames.FilesContainer, fileId, range, ifNoneMatch, cancellationToken);

    public async Task<byte[]?> ReadAllAsync(string fileId, CancellationToken cancellationToken)
    {
        using var download = await blobs.DownloadAsync(StorageNames.FilesContainer, fileId, cancellationToken: cancellationToken);
        if (download is null) return null;
        var buffer = new MemoryStream((int)download.ContentLength);
        await download.Content.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    public async Task<StoredFile?> GetAsync(string fileId, CancellationToken cancellationToken) =>
        await blobs.GetPropertiesAsync(StorageNames.FilesContainer, fileId, cancellationToken) is { } properties
            ? FromBlob(fileId, properties)
            : null;

    /// <summary>
    /// Up to <paramref name="limit"/> files newest first (file ids sort that way) that <paramref name="visible"/> lets
    /// through, from <paramref name="marker"/> on; the marker for the next page is null on the last one.
    /// </summary>
    public async Task<(IReadOnlyList<StoredFile> Files, string? NextMarker)> ListAsync(string? marker, int limit,
        Func<StoredFile, bool> visible, CancellationToken cancellationToken)
    {
        var found = new List<StoredFile>();
        do
        {
            // Ask for no more than the page still needs, so that the marker never skips a file.
            var page = await blobs.ListAsync(StorageNames.FilesContainer, "file_", marker, limit - found.Count, cancellationToken);
            found.AddRange(page.Blobs.Select(b => FromBlob(b.Name, b.Properties)).Where(visible));
            marker = page.NextMarker;
        } while (marker is not null && found.Count < limit);
        return (found, marker);
    }

    static StoredFile FromBlob(string fileId, BlobProperties properties)
    {
        var meta = properties.Metadata;
        var created = long.TryParse(meta.GetValueOrDefault(CreatedKey), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch;
        return new StoredFile(fileId, meta.GetValueOrDefault(FilenameKey, fileId), properties.ContentType, properties.ContentLength, created,
            meta.GetValueOrDefault(PrivateKey) == "true",
            meta.Where(m => m.Key is not (FilenameKey or CreatedKey or PrivateKey)).ToDictionary());
    }

    public Task<bool> DeleteAsync(string fileId, CancellationToken cancellationToken) =>
        blobs.DeleteAsync(StorageNames.FilesContainer, fileId, cancellationToken);

    /// <summary>Whether a file may be served to anyone holding its URL; private files carry Cache-Control private.</summary>
    public static bool IsPrivate(BlobDownload download) => download.Metadata.GetValueOrDefault(PrivateKey) == "true";
}

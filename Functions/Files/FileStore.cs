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

    public async Task<StoredFile?> GetAsync(string fileId, CancellationToken cancellationToken)
    {
        var properties = await blobs.GetPropertiesAsync(StorageNames.FilesContainer, fileId, cancellationToken);
        if (properties is null) return null;
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

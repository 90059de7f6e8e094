using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Functions.Storage;

namespace Functions.Files;

/// <summary>
/// Files are blobs named by their id in the images container; the blob's content type, length and metadata are the
/// file record, so one write stores a file and one read serves it.
/// </summary>
public sealed class FileStore([FromKeyedServices(StorageNames.FilesContainer)] BlobContainerClient container)
{
    const string FilenameKey = "filename";
    const string CreatedKey = "created";
    const string PrivateKey = "private";
    /// <summary>The metadata key naming the job that made a generated file, or that a reference copy was made for.</summary>
    public const string JobKey = "job";
    /// <summary>The metadata keys of an image's pixel size, as its codec read it (<see cref="Generation.ImageInfo.Meta"/>).</summary>
    public const string WidthKey = "width", HeightKey = "height";

    public Task<StoredFile> SaveAsync(string fileId, ReadOnlyMemory<byte> bytes, string contentType, string filename,
        DateTimeOffset createdAt, bool isPrivate, IReadOnlyDictionary<string, string>? meta = null, CancellationToken cancellationToken = default) =>
        WriteAsync(fileId, bytes, contentType, filename, createdAt, isPrivate, meta, conditions: null, cancellationToken);

    /// <summary>Saves a file only if none has its id; null when one had (a job step that ran again keeps the first image).</summary>
    public async Task<StoredFile?> TryCreateAsync(string fileId, ReadOnlyMemory<byte> bytes, string contentType, string filename,
        DateTimeOffset createdAt, bool isPrivate, IReadOnlyDictionary<string, string> meta, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteAsync(fileId, bytes, contentType, filename, createdAt, isPrivate, meta,
                new BlobRequestConditions { IfNoneMatch = ETag.All }, cancellationToken);
        }
        catch (RequestFailedException e) when (StorageFaults.IsAlreadyThere(e))
        {
            return null;
        }
    }

    async Task<StoredFile> WriteAsync(string fileId, ReadOnlyMemory<byte> bytes, string contentType, string filename,
        DateTimeOffset createdAt, bool isPrivate, IReadOnlyDictionary<string, string>? meta, BlobRequestConditions? conditions,
        CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string>(meta ?? new Dictionary<string, string>())
        {
            [FilenameKey] = Uri.EscapeDataString(filename), // metadata is an HTTP header: ASCII only
            [CreatedKey] = createdAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            [PrivateKey] = isPrivate ? "true" : "false",
        };
        await container.GetBlobClient(fileId).UploadAsync(BinaryData.FromBytes(bytes), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = contentType }, Metadata = metadata, Conditions = conditions,
        }, cancellationToken);
        return new StoredFile(fileId, filename, contentType, bytes.Length, createdAt, isPrivate, meta ?? new Dictionary<string, string>());
    }

    /// <summary>
    /// A file's record and a seekable stream over its bytes that reads only what is asked of it (so that a byte range
    /// costs only that range), pinned to the version read here; null when it does not exist.
    /// </summary>
    public async Task<FileContent?> OpenReadAsync(string fileId, CancellationToken cancellationToken)
    {
        var blob = container.GetBlobClient(fileId);
        try
        {
            var properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            var content = await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false)
            {
                BufferSize = ReadBufferBytes, Conditions = new BlobRequestConditions { IfMatch = properties.ETag },
            }, cancellationToken);
            return new FileContent(FromBlob(fileId, properties.ContentType, properties.ContentLength, properties.Metadata), content,
                properties.ETag.ToString("H"), properties.LastModified);
        }
        // 412: deleted between the two reads (a file is never changed in place, so a version that no longer holds is gone).
        catch (RequestFailedException e) when (e.Status is StatusCodes.Status404NotFound or StatusCodes.Status412PreconditionFailed)
        {
            return null;
        }
    }

    // Large enough that an image is read in a request or two.
    const int ReadBufferBytes = 4 * 1024 * 1024;

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
        // Past files it may not show (private ones can be most of the newest), the listing reads ever larger pages, so
        // that thousands of them take a few requests, not one each.
        var scan = limit;
        do
        {
            var needed = limit - found.Count;
            var (page, next) = await PageAsync(marker, Math.Max(needed, scan), cancellationToken);
            var shown = page.Where(visible).ToList();
            while (shown.Count > needed)
            {
                // The page went past the last file this answer shows: read it again up to that file, so that the marker
                // the answer gives skips none of the others (again if a newer file came into that stretch meanwhile).
                (page, next) = await PageAsync(marker, page.IndexOf(shown[needed - 1]) + 1, cancellationToken);
                shown = [.. page.Where(visible)];
            }
            found.AddRange(shown);
            marker = next;
            scan = Math.Min(scan * 4, MaxListPage);
        } while (marker is not null && found.Count < limit);
        return (found, marker);
    }

    const int MaxListPage = 5000; // the most blob storage lists in one request

    async Task<(List<StoredFile> Files, string? NextMarker)> PageAsync(string? marker, int size, CancellationToken cancellationToken)
    {
        var listing = new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = FileIds.Prefix };
        await foreach (var page in container.GetBlobsAsync(listing, cancellationToken).AsPages(marker, size))
            return ([.. page.Values.Select(b => FromBlob(b.Name, b.Properties.ContentType, b.Properties.ContentLength ?? 0, b.Metadata))],
                string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        return ([], null);
    }

    /// <summary>Every file with its record, newest first; for a sweep, which reads them all.</summary>
    public async IAsyncEnumerable<StoredFile> AllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var blob in container.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata, Prefix = FileIds.Prefix }, cancellationToken))
            yield return FromBlob(blob.Name, blob.Properties.ContentType, blob.Properties.ContentLength ?? 0, blob.Metadata);
    }

    static StoredFile FromBlob(string fileId, string? contentType, long length, IDictionary<string, string>? metadata)
    {
        var meta = MetadataOf(metadata);
        var created = long.TryParse(meta.GetValueOrDefault(CreatedKey), out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UnixEpoch;
        return new StoredFile(fileId, Uri.UnescapeDataString(meta.GetValueOrDefault(FilenameKey, fileId)), contentType ?? "application/octet-stream", length, created,
            meta.GetValueOrDefault(PrivateKey) == "true",
            meta.Where(m => m.Key is not (FilenameKey or CreatedKey or PrivateKey)).ToDictionary());
    }

    // Metadata names are case-insensitive in storage; ours are written lower-case and read back the same way.
    static Dictionary<string, string> MetadataOf(IDictionary<string, string>? metadata) =>
        metadata?.ToDictionary(m => m.Key.ToLowerInvariant(), m => m.Value) ?? [];

    public async Task<bool> DeleteAsync(string fileId, CancellationToken cancellationToken) =>
        await container.GetBlobClient(fileId).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    /// <summary>
    /// Takes back a write storage did not confirm (no answer, a 5xx, the client gone): it may have landed, or land once
    /// storage wakes up, as a file whose id nobody was told. Best effort, within a few seconds, and once more in the
    /// background after <paramref name="lateWrites"/> (a minute by default): a write storage took but applied after the
    /// first take-back stayed (seen under load). A storage away longer, or a stop meanwhile, keeps what it applies later.
    /// </summary>
    public async Task TakeBackUnconfirmedAsync(string fileId, TimeSpan? lateWrites = null)
    {
        await TryDeleteAsync(fileId);
        _ = Task.Run(async () =>
        {
            await Task.Delay(lateWrites ?? LateWriteWindow);
            await TryDeleteAsync(fileId);
        });
    }

    async Task TryDeleteAsync(string fileId)
    {
        using var bound = new CancellationTokenSource(UnconfirmedTakeBackBound);
        try
        {
            await DeleteAsync(fileId, bound.Token);
        }
        catch (Exception e) when (StorageFaults.IsOutage(e) || e is OperationCanceledException)
        {
        }
    }

    // Past the storage clients' own tries (three of at most 10 s each) and a storage slow to apply what it took.
    static readonly TimeSpan LateWriteWindow = TimeSpan.FromMinutes(1);
    static readonly TimeSpan UnconfirmedTakeBackBound = TimeSpan.FromSeconds(5);
}

using System.Globalization;
using Functions.Storage;

namespace Functions.Images;

public sealed record HistoryPage(IReadOnlyList<ImageEntry> Images, long Total);

/// <summary>
/// The image history in one Table partition, laid out so that every write is one entity-group transaction:
/// <list type="bullet">
/// <item><c>counter</c>: the next id and the public and private counts (ETag-guarded, cached per instance);</item>
/// <item><c>pub-{inverted id}</c> / <c>prv-{inverted id}</c>: the images, newest first in key order, by visibility;</item>
/// <item><c>job-{job id}</c>: which image a job produced, so that a retried job never adds a second row.</item>
/// </list>
/// </summary>
public sealed class ImageHistory(TableStorage tables)
{
    const string Table = StorageNames.HistoryTable;
    const string Partition = "history";
    const string CounterKey = "counter";
    const string PublicPrefix = "pub-";
    const string PrivatePrefix = "prv-";
    const int MaxAttempts = 50;

    readonly SemaphoreSlim _writer = new(1, 1);
    TableEntity? _counter; // the last counter row this instance wrote or read, with its ETag
    volatile CachedPage? _firstPage; // the newest public images as of one counter ETag

    sealed record CachedPage(string Version, int Limit, IReadOnlyList<ImageEntry> Images, long Total);

    /// <summary>Adds the image a job made and gives it the next id; adding for the same job again returns the first entry.</summary>
    public async Task<ImageEntry> AddAsync(ImageEntry image, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var counter = _counter ??= await tables.GetAsync(Table, Partition, CounterKey, cancellationToken: cancellationToken);
                var entry = image with { Id = counter?.GetInt64("NextId") ?? 1 };
                var next = Counter(entry.Id + 1, Count(counter, "PublicCount") + (entry.IsPrivate ? 0 : 1),
                    Count(counter, "PrivateCount") + (entry.IsPrivate ? 1 : 0));
                var marker = new TableEntity(Partition, MarkerKey(entry.JobId)) { ["ImageId"] = entry.Id };
                try
                {
                    await tables.SubmitTransactionAsync(Table,
                    [
                        new(TableBatchKind.Insert, entry.ToEntity(Partition, RowKey(entry.Id, entry.IsPrivate))),
                        new(TableBatchKind.Insert, marker),
                        counter is null ? new(TableBatchKind.Insert, next) : new(TableBatchKind.Replace, next, counter.ETag),
                    ], cancellationToken);
                    _counter = next;
                    return entry;
                }
                catch (StorageException e) when (e.IsPreconditionFailed || e.IsConflict)
                {
                    _counter = null; // another writer moved the counter, or this job is already stored
                    if (e.IsConflict && await FindByJobAsync(image.JobId, cancellationToken) is { } existing) return existing;
                }
            }
            throw new InvalidOperationException($"The history counter stayed contended for {MaxAttempts} attempts.");
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>The public images, newest first, and how many there are; never reads more than offset keys plus one page.</summary>
    public async Task<HistoryPage> ListPublicAsync(int limit, int offset, CancellationToken cancellationToken)
    {
        if (offset == 0) return await FirstPageAsync(limit, cancellationToken);
        var counterTask = tables.GetAsync(Table, Partition, CounterKey, cancellationToken: cancellationToken);
        var after = await SkipAsync(offset, cancellationToken);
        var images = after is null ? [] : await ReadPublicAsync(after, limit, cancellationToken);
        return new HistoryPage(images, Count(await counterTask, "PublicCount"));
    }

    // Every history write rewrites the counter row in the same transaction, so while its ETag is unchanged the first
    // page is too: one point read then serves it, whatever the size of the history.
    async Task<HistoryPage> FirstPageAsync(int limit, CancellationToken cancellationToken)
    {
        var counter = await tables.GetAsync(Table, Partition, CounterKey, cancellationToken: cancellationToken);
        var version = counter?.ETag ?? "";
        if (_firstPage is { } cached && cached.Version == version && (cached.Limit >= limit || cached.Images.Count < cached.Limit))
            return new HistoryPage([.. cached.Images.Take(limit)], cached.Total);

        var images = await ReadPublicAsync(after: null, limit, cancellationToken);
        var page = new CachedPage(version, limit, images, Count(counter, "PublicCount"));
        _firstPage = page;
        return new HistoryPage(images, page.Total);
    }

    async Task<List<ImageEntry>> ReadPublicAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var images = new List<ImageEntry>(limit);
        var filter = RangeFilter(after);
        string? token = null;
        do
        {
            var page = await tables.QueryAsync(Table, filter, top: limit - images.Count, continuationToken: token, cancellationToken: cancellationToken);
            images.AddRange(page.Entities.Select(ImageEntry.FromEntity));
            token = page.ContinuationToken;
        } while (token is not null && images.Count < limit);
        return images;
    }

    /// <summary>Removes an image's row; null when there is none. The caller removes its file.</summary>
    public async Task<ImageEntry?> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        var found = await Task.WhenAll(
            tables.GetAsync(Table, Partition, RowKey(id, isPrivate: false), cancellationToken: cancellationToken),
            tables.GetAsync(Table, Partition, RowKey(id, isPrivate: true), cancellationToken: cancellationToken));
        if (found.FirstOrDefault(e => e is not null) is not { } row) return null;
        var entry = ImageEntry.FromEntity(row);

        await _writer.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var counter = _counter ??= await tables.GetAsync(Table, Partition, CounterKey, cancellationToken: cancellationToken);
                if (counter is null) return null;
                var next = Counter(counter.GetInt64("NextId") ?? 1,
                    Count(counter, "PublicCount") - (entry.IsPrivate ? 0 : 1), Count(counter, "PrivateCount") - (entry.IsPrivate ? 1 : 0));
                try
                {
                    await tables.SubmitTransactionAsync(Table,
                    [
                        new(TableBatchKind.Delete, new TableEntity(Partition, row.RowKey)),
                        new(TableBatchKind.Delete, new TableEntity(Partition, MarkerKey(entry.JobId))),
                        new(TableBatchKind.Replace, next, counter.ETag),
                    ], cancellationToken);
                    _counter = next;
                    return entry;
                }
                catch (StorageException e) when (e.IsPreconditionFailed)
                {
                    _counter = null;
                }
                catch (StorageException e) when (e.IsNotFound)
                {
                    return null; // deleted meanwhile by another request
                }
            }
            throw new InvalidOperationException($"The history counter stayed contended for {MaxAttempts} attempts.");
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Removes the image a job made, if it made one (its marker says which); null when there is none.</summary>
    public async Task<ImageEntry?> DeleteByJobAsync(string jobId, CancellationToken cancellationToken) =>
        await FindByJobAsync(jobId, cancellationToken) is { } entry ? await DeleteAsync(entry.Id, cancellationToken) : null;

    async Task<ImageEntry?> FindByJobAsync(string jobId, CancellationToken cancellationToken)
    {
        var marker = await tables.GetAsync(Table, Partition, MarkerKey(jobId), cancellationToken: cancellationToken);
        if (marker?.GetInt64("ImageId") is not { } id) return null;
        var rows = await Task.WhenAll(
            tables.GetAsync(Table, Partition, RowKey(id, false), cancellationToken: cancellationToken),
            tables.GetAsync(Table, Partition, RowKey(id, true), cancellationToken: cancellationToken));
        return rows.FirstOrDefault(r => r is not null) is { } row ? ImageEntry.FromEntity(row) : null;
    }

    // Walks past the first offset public keys (keys only) and returns the last one; null when there are fewer.
    async Task<string?> SkipAsync(int offset, CancellationToken cancellationToken)
    {
        string? last = null, token = null;
        var skipped = 0;
        do
        {
            var page = await tables.QueryAsync(Table, RangeFilter(null), select: "RowKey", top: Math.Min(1000, offset - skipped),
                continuationToken: token, cancellationToken: cancellationToken);
            skipped += page.Entities.Count;
            if (page.Entities.Count > 0) last = page.Entities[^1].RowKey;
            token = page.ContinuationToken;
        } while (token is not null && skipped < offset);
        return skipped == offset ? last : null;
    }

    static string RangeFilter(string? after) =>
        $"PartitionKey eq '{Partition}' and RowKey {(after is null ? "ge" : "gt")} {TableStorage.Quote(after ?? PublicPrefix)} " +
        $"and RowKey lt '{PublicPrefix[..^1]}.'";

    static TableEntity Counter(long nextId, long publicCount, long privateCount) =>
        new(Partition, CounterKey) { ["NextId"] = nextId, ["PublicCount"] = publicCount, ["PrivateCount"] = privateCount };

    static long Count(TableEntity? counter, string name) => Math.Max(0, counter?.GetInt64(name) ?? 0);

    // Inverted and zero-padded, so that the newest (highest) id sorts first.
    static string RowKey(long id, bool isPrivate) =>
        (isPrivate ? PrivatePrefix : PublicPrefix) + (long.MaxValue - id).ToString("D19", CultureInfo.InvariantCulture);

    static string MarkerKey(string jobId) => "job-" + jobId;
}

using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.History;

public sealed record HistoryPage(IReadOnlyList<ImageEntry> Images, long Total);

/// <summary>
/// The image history in one Table partition, laid out so that every write is one entity-group transaction:
/// <list type="bullet">
/// <item><c>counter</c>: the next id and the public and private counts (ETag-guarded, cached per instance);</item>
/// <item><c>pub-{inverted id}</c> / <c>prv-{inverted id}</c>: the images, newest first in key order, by visibility;</item>
/// <item><c>job-{job id}</c>: which image a job produced, so that a retried job never adds a second row.</item>
/// </list>
/// </summary>
public sealed class ImageHistory([FromKeyedServices(StorageNames.HistoryTable)] TableClient table)
{
    const string Partition = "history";
    const string CounterKey = "counter";
    const string PublicPrefix = "pub-";
    const string PublicEnd = "pub."; // the first key after every "pub-…" key
    const string PrivatePrefix = "prv-";
    const string PrivateEnd = "prv.";
    const int MaxAttempts = 50;

    readonly SemaphoreSlim _writer = new(1, 1);
    CounterRow? _counter; // the last counter row this instance wrote or read, with its ETag
    volatile CachedPage? _firstPage; // the newest public images as of one counter ETag

    sealed record CachedPage(ETag Version, int Limit, IReadOnlyList<ImageEntry> Images, long Total);

    /// <summary>The counter row as it stands, the row after a write, and the write's step that puts it there.</summary>
    sealed record CounterStep(CounterRow Current, CounterRow Next, TableTransactionAction Step);

    /// <summary>Adds a generated image (its key is its job's id, or an inline generation's file id) and gives it the next id; adding for the same key again returns the first entry.</summary>
    public async Task<ImageEntry> AddAsync(ImageEntry image, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var counter = await CounterStepAsync(image, added: true, cancellationToken);
                var entry = image with { Id = counter.Current.NextId };
                var marker = new MarkerRow { PartitionKey = Partition, RowKey = MarkerKey(entry.JobId), ImageId = entry.Id };
                try
                {
                    var written = await table.SubmitTransactionAsync(
                    [
                        new(TableTransactionActionType.Add, ImageRow.Of(entry, Partition, RowKey(entry.Id, entry.IsPrivate))),
                        new(TableTransactionActionType.Add, marker),
                        counter.Step,
                    ], cancellationToken);
                    _counter = counter.Next with { ETag = written.Value[2].Headers.ETag ?? default };
                    return entry;
                }
                catch (RequestFailedException e) when (!StorageFaults.IsLostResource(e)
                                                       && e.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict or StatusCodes.Status404NotFound)
                {
                    _counter = null; // another writer moved (or made, or removed) the counter, or this job is already stored
                    if (e.Status == StatusCodes.Status409Conflict && await FindByKeyAsync(image.JobId, cancellationToken) is { } existing)
                        return existing;
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
        var counterTask = ReadCounterAsync(cancellationToken);
        var after = await SkipAsync(offset, cancellationToken);
        var images = after is null ? [] : await ReadPublicAsync(after, limit, cancellationToken);
        return new HistoryPage(images, NotBelowZero((await counterTask)?.PublicCount));
    }

    // Every history write rewrites the counter row in the same transaction, so while its ETag is unchanged the first
    // page is too: one point read then serves it, whatever the size of the history.
    async Task<HistoryPage> FirstPageAsync(int limit, CancellationToken cancellationToken)
    {
        var counter = await ReadCounterAsync(cancellationToken);
        var version = counter?.ETag ?? default;
        if (_firstPage is { } cached && cached.Version == version && (cached.Limit >= limit || cached.Images.Count < cached.Limit))
            return new HistoryPage([.. cached.Images.Take(limit)], cached.Total);

        var images = await ReadPublicAsync(after: null, limit, cancellationToken);
        var page = new CachedPage(version, limit, images, NotBelowZero(counter?.PublicCount));
        _firstPage = page;
        return new HistoryPage(images, page.Total);
    }

    async Task<List<ImageEntry>> ReadPublicAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var images = new List<ImageEntry>(limit);
        string? token = null;
        do
        {
            var page = await table.PageAsync<ImageRow>(PublicRange(after), limit - images.Count, token, null, cancellationToken);
            images.AddRange(page.Rows.Select(row => row.ToEntry()));
            token = page.ContinuationToken;
        } while (token is not null && images.Count < limit);
        return images;
    }

    /// <summary>Removes an image's row; null when there is none. The caller removes its file.</summary>
    public async Task<ImageEntry?> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            // Read under the lock: a delete of it on this instance that came first has ended, and this one finds none.
            if (await FindAsync(id, cancellationToken) is not { } row) return null;
            var entry = row.ToEntry();
            for (var attempt = 0; attempt < MaxAttempts; attempt++)
            {
                var counter = await CounterStepAsync(entry, added: false, cancellationToken);
                try
                {
                    var written = await table.SubmitTransactionAsync(
                    [
                        new(TableTransactionActionType.Delete, new TableEntity(Partition, row.RowKey)),
                        new(TableTransactionActionType.Delete, new TableEntity(Partition, MarkerKey(entry.JobId))),
                        counter.Step,
                    ], cancellationToken);
                    _counter = counter.Next with { ETag = written.Value[2].Headers.ETag ?? default };
                    return entry;
                }
                catch (RequestFailedException e) when (e.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status409Conflict
                                                       && !StorageFaults.IsLostResource(e))
                {
                    _counter = null; // another writer moved (or made) the counter
                }
                catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound && !StorageFaults.IsLostResource(e))
                {
                    // The image gone: this write landed with its answer lost and was sent again (the counter bears its mark), or
                    // another instance deleted it meanwhile. Or the counter row was removed since this instance read it: again.
                    _counter = null;
                    if (await FindAsync(id, cancellationToken) is null)
                        return (await ReadCounterAsync(cancellationToken))?.LastWrite == counter.Next.LastWrite ? entry : null;
                }
            }
            throw new InvalidOperationException($"The history counter stayed contended for {MaxAttempts} attempts.");
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Removes the image of a history key (<see cref="ImageEntry.JobId"/>), if there is one (its marker says which); null when there is none.</summary>
    public async Task<ImageEntry?> DeleteByKeyAsync(string historyKey, CancellationToken cancellationToken) =>
        await FindByKeyAsync(historyKey, cancellationToken) is { } entry ? await DeleteAsync(entry.Id, cancellationToken) : null;

    /// <summary>The image a job added (by its job id), or an inline generation (by its file id); null when it added none.</summary>
    public async Task<ImageEntry?> FindByKeyAsync(string historyKey, CancellationToken cancellationToken)
    {
        var marker = await table.GetEntityIfExistsAsync<MarkerRow>(Partition, MarkerKey(historyKey), cancellationToken: cancellationToken);
        return marker.HasValue && await FindAsync(marker.Value!.ImageId, cancellationToken) is { } row ? row.ToEntry() : null;
    }

    /// <summary>
    /// Since when the history's rows are a full record of the images made (<see cref="CounterRow.KeptSince"/>;
    /// <see cref="DateTimeOffset.MinValue"/> for a counter from before that was kept); null when it has no counter yet.
    /// </summary>
    public async Task<DateTimeOffset?> KeptSinceAsync(CancellationToken cancellationToken) =>
        await ReadCounterAsync(cancellationToken) is { } counter ? counter.KeptSince ?? DateTimeOffset.MinValue : null;

    /// <summary>The file of every image, public and private: a scan of the image rows that reads only their file ids.</summary>
    public async Task<HashSet<string>> FileIdsAsync(CancellationToken cancellationToken)
    {
        var fileIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (prefix, end) in new[] { (PublicPrefix, PublicEnd), (PrivatePrefix, PrivateEnd) })
        {
            var range = TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {prefix} and RowKey lt {end}");
            await foreach (var row in table.QueryAsync<ImageRow>(range, 1000, [nameof(ImageRow.FileId)], cancellationToken)) fileIds.Add(row.FileId);
        }
        return fileIds;
    }

    // An image is public or private: both keys are read at once.
    async Task<ImageRow?> FindAsync(long id, CancellationToken cancellationToken)
    {
        var found = await Task.WhenAll(
            table.GetEntityIfExistsAsync<ImageRow>(Partition, RowKey(id, isPrivate: false), cancellationToken: cancellationToken),
            table.GetEntityIfExistsAsync<ImageRow>(Partition, RowKey(id, isPrivate: true), cancellationToken: cancellationToken));
        return found.FirstOrDefault(row => row.HasValue)?.Value;
    }

    // The counter's step in a write that adds (the image takes the next id) or removes one image: a replace under the
    // ETag this instance last saw, or, without a counter row, an add of one recounted from the keys, kept since the
    // added image or since now.
    async Task<CounterStep> CounterStepAsync(ImageEntry image, bool added, CancellationToken cancellationToken)
    {
        var counter = _counter ??= await ReadCounterAsync(cancellationToken);
        var current = counter ?? await RecountAsync(cancellationToken);
        var change = added ? 1 : -1;
        var next = Counter(current.NextId + (added ? 1 : 0), NotBelowZero(current.PublicCount) + (image.IsPrivate ? 0 : change),
            NotBelowZero(current.PrivateCount) + (image.IsPrivate ? change : 0),
            counter is not null ? current.KeptSince : added ? image.CreatedAt : DateTimeOffset.UtcNow) with { LastWrite = Guid.NewGuid().ToString("N") };
        return new(current, next,
            counter is null ? new(TableTransactionActionType.Add, next) : new(TableTransactionActionType.UpdateReplace, next, counter.ETag));
    }

    async Task<CounterRow?> ReadCounterAsync(CancellationToken cancellationToken)
    {
        var counter = await table.GetEntityIfExistsAsync<CounterRow>(Partition, CounterKey, cancellationToken: cancellationToken);
        return counter.HasValue ? counter.Value : null;
    }

    // Without its counter row (a new history, or the row removed by hand) the next id and the counts come from the image
    // keys: two key-only scans, and only then.
    async Task<CounterRow> RecountAsync(CancellationToken cancellationToken)
    {
        var (publicCount, newestPublic) = await CountKeysAsync(PublicPrefix, PublicEnd, cancellationToken);
        var (privateCount, newestPrivate) = await CountKeysAsync(PrivatePrefix, PrivateEnd, cancellationToken);
        return Counter(Math.Max(newestPublic, newestPrivate) + 1, publicCount, privateCount, keptSince: null);
    }

    async Task<(long Count, long NewestId)> CountKeysAsync(string prefix, string end, CancellationToken cancellationToken)
    {
        long count = 0, newest = 0;
        string? token = null;
        do
        {
            var page = await table.PageAsync<TableEntity>(
                TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {prefix} and RowKey lt {end}"), 1000, token, ["RowKey"],
                cancellationToken);
            if (newest == 0 && page.Rows.Count > 0) newest = long.MaxValue - long.Parse(page.Rows[0].RowKey[prefix.Length..], CultureInfo.InvariantCulture);
            count += page.Rows.Count;
            token = page.ContinuationToken;
        } while (token is not null);
        return (count, newest);
    }

    // Walks past the first offset public keys (keys only) and returns the last one; null when there are fewer.
    async Task<string?> SkipAsync(int offset, CancellationToken cancellationToken)
    {
        string? last = null, token = null;
        var skipped = 0;
        do
        {
            var page = await table.PageAsync<TableEntity>(PublicRange(after: null), Math.Min(1000, offset - skipped), token, ["RowKey"],
                cancellationToken);
            skipped += page.Rows.Count;
            if (page.Rows.Count > 0) last = page.Rows[^1].RowKey;
            token = page.ContinuationToken;
        } while (token is not null && skipped < offset);
        return skipped == offset ? last : null;
    }

    static string PublicRange(string? after) => after is null
        ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {PublicPrefix} and RowKey lt {PublicEnd}")
        : TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey gt {after} and RowKey lt {PublicEnd}");

    // A counter made anew (a new history, or one lost or removed since) holds only what is written from now on.
    static CounterRow Counter(long nextId, long publicCount, long privateCount, DateTimeOffset? keptSince) => new()
    {
        PartitionKey = Partition, RowKey = CounterKey, NextId = nextId, PublicCount = publicCount, PrivateCount = privateCount, KeptSince = keptSince,
    };

    static long NotBelowZero(long? count) => Math.Max(0, count ?? 0);

    // Inverted and zero-padded, so that the newest (highest) id sorts first.
    static string RowKey(long id, bool isPrivate) =>
        (isPrivate ? PrivatePrefix : PublicPrefix) + (long.MaxValue - id).ToString("D19", CultureInfo.InvariantCulture);

    static string MarkerKey(string jobId) => "job-" + jobId;
}

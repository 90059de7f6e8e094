using Functions.Storage;

namespace Functions.Tests.Storage;

public sealed class TableStorageTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    async Task<string> NewTableAsync()
    {
        var name = "t" + Guid.NewGuid().ToString("N")[..12];
        await storage.Tables.CreateTableIfNotExistsAsync(name);
        await storage.Tables.CreateTableIfNotExistsAsync(name); // twice is fine
        return name;
    }

    [Fact]
    public async Task Insert_and_get_round_trip_every_property_type()
    {
        var table = await NewTableAsync();
        var when = new DateTimeOffset(2026, 11, 20, 10, 30, 0, TimeSpan.Zero);
        var entity = new TableEntity("p", "r'1")
        {
            ["Text"] = "héllo", ["Flag"] = true, ["Small"] = 42, ["Big"] = 9_007_199_254_740_993L, ["Ratio"] = 0.25, ["When"] = when,
        };

        await storage.Tables.InsertAsync(table, entity);
        var read = await storage.Tables.GetAsync(table, "p", "r'1");

        Assert.NotNull(read);
        Assert.Equal("héllo", read.GetString("Text"));
        Assert.True(read.GetBool("Flag"));
        Assert.Equal(42, read.GetInt64("Small"));
        Assert.Equal(9_007_199_254_740_993L, read.GetInt64("Big"));
        Assert.Equal(0.25, read.GetDouble("Ratio"));
        Assert.Equal(when, read.GetDateTime("When"));
        Assert.Equal(entity.ETag, read.ETag);
    }

    [Fact]
    public async Task Insert_of_an_existing_row_is_a_conflict()
    {
        var table = await NewTableAsync();
        await storage.Tables.InsertAsync(table, new TableEntity("p", "r"));

        var error = await Assert.ThrowsAsync<StorageException>(() => storage.Tables.InsertAsync(table, new TableEntity("p", "r")));

        Assert.True(error.IsConflict);
        Assert.Equal("EntityAlreadyExists", error.ErrorCode);
    }

    [Fact]
    public async Task Replace_and_merge_with_a_stale_etag_fail_with_412()
    {
        var table = await NewTableAsync();
        var entity = new TableEntity("p", "r") { ["N"] = 1 };
        await storage.Tables.InsertAsync(table, entity);
        var stale = entity.ETag!;

        entity["N"] = 2;
        await storage.Tables.ReplaceAsync(table, entity, stale);
        var replace = await Assert.ThrowsAsync<StorageException>(() => storage.Tables.ReplaceAsync(table, entity, stale));
        var merge = await Assert.ThrowsAsync<StorageException>(() =>
            storage.Tables.MergeAsync(table, new TableEntity("p", "r") { ["M"] = 3 }, stale));

        Assert.True(replace.IsPreconditionFailed);
        Assert.True(merge.IsPreconditionFailed);
        await storage.Tables.MergeAsync(table, new TableEntity("p", "r") { ["M"] = 3 }, entity.ETag!);
        var read = await storage.Tables.GetAsync(table, "p", "r");
        Assert.Equal(2, read!.GetInt64("N"));
        Assert.Equal(3, read.GetInt64("M"));
    }

    [Fact]
    public async Task Query_filters_selects_and_pages_with_continuation()
    {
        var table = await NewTableAsync();
        for (var i = 0; i < 25; i++)
            await storage.Tables.UpsertAsync(table, new TableEntity("p", $"r{i:D2}") { ["Even"] = i % 2 == 0, ["I"] = i });

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await storage.Tables.QueryAsync(table, "Even eq true", "RowKey,I", top: 5, continuationToken: token);
            seen.AddRange(page.Entities.Select(e => e.RowKey));
            Assert.All(page.Entities, e => Assert.Null(e["Even"]));
            token = page.ContinuationToken;
            pages++;
        } while (token is not null);

        Assert.Equal(Enumerable.Range(0, 13).Select(i => $"r{i * 2:D2}"), seen);
        Assert.True(pages >= 3);
    }

    [Fact]
    public async Task Delete_removes_the_row_and_reports_missing_ones()
    {
        var table = await NewTableAsync();
        await storage.Tables.InsertAsync(table, new TableEntity("p", "r"));

        Assert.True(await storage.Tables.DeleteAsync(table, "p", "r"));
        Assert.False(await storage.Tables.DeleteAsync(table, "p", "r"));
        Assert.Null(await storage.Tables.GetAsync(table, "p", "r"));
    }

    [Fact]
    public async Task Transaction_applies_all_operations_and_returns_new_etags()
    {
        var table = await NewTableAsync();
        var counter = new TableEntity("p", "counter") { ["N"] = 1L };
        await storage.Tables.InsertAsync(table, counter);
        await storage.Tables.InsertAsync(table, new TableEntity("p", "old"));

        var row = new TableEntity("p", "row1") { ["V"] = "a" };
        var next = new TableEntity("p", "counter") { ["N"] = 2L };
        await storage.Tables.SubmitTransactionAsync(table,
        [
            new(TableBatchKind.Insert, row),
            new(TableBatchKind.Merge, next, counter.ETag),
            new(TableBatchKind.Delete, new TableEntity("p", "old")),
        ]);

        Assert.NotNull(row.ETag);
        Assert.NotNull(next.ETag);
        Assert.Equal(next.ETag, (await storage.Tables.GetAsync(table, "p", "counter"))!.ETag);
        Assert.Equal(2L, (await storage.Tables.GetAsync(table, "p", "counter"))!.GetInt64("N"));
        Assert.NotNull(await storage.Tables.GetAsync(table, "p", "row1"));
        Assert.Null(await storage.Tables.GetAsync(table, "p", "old"));
    }

    [Fact]
    public async Task Transaction_with_a_stale_etag_applies_nothing()
    {
        var table = await NewTableAsync();
        var counter = new TableEntity("p", "counter") { ["N"] = 1L };
        await storage.Tables.InsertAsync(table, counter);
        var stale = counter.ETag;
        await storage.Tables.MergeAsync(table, new TableEntity("p", "counter") { ["N"] = 5L }, stale!);

        var error = await Assert.ThrowsAsync<StorageException>(() => storage.Tables.SubmitTransactionAsync(table,
        [
            new(TableBatchKind.Insert, new TableEntity("p", "row2")),
            new(TableBatchKind.Merge, new TableEntity("p", "counter") { ["N"] = 2L }, stale),
        ]));

        Assert.True(error.IsPreconditionFailed);
        Assert.Null(await storage.Tables.GetAsync(table, "p", "row2"));
        Assert.Equal(5L, (await storage.Tables.GetAsync(table, "p", "counter"))!.GetInt64("N"));
    }
}

using Functions.Images;
using Functions.Storage;

namespace Functions.Tests.Storage;

public sealed class ImageHistoryTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    static ImageEntry Image(string jobId, bool isPrivate = false) =>
        new(0, "file_" + jobId[4..], "p", "realistic", "1:1", "grok", isPrivate, null, DateTimeOffset.UtcNow, jobId);

    [Fact]
    public async Task Adding_for_the_same_job_twice_keeps_one_row_and_one_id()
    {
        await storage.Tables.CreateTableIfNotExistsAsync(StorageNames.HistoryTable);
        var history = new ImageHistory(storage.Tables);
        var before = (await history.ListPublicAsync(1, 0, default)).Total;

        var first = await history.AddAsync(Image("job_aa01"), default);
        var second = await new ImageHistory(storage.Tables).AddAsync(Image("job_aa01"), default); // another instance, e.g. after a crash

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(before + 1, (await history.ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task Two_instances_writing_at_once_never_share_an_id_and_keep_the_count()
    {
        await storage.Tables.CreateTableIfNotExistsAsync(StorageNames.HistoryTable);
        var (a, b) = (new ImageHistory(storage.Tables), new ImageHistory(storage.Tables));
        var before = (await a.ListPublicAsync(1, 0, default)).Total;

        var added = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? a : b).AddAsync(Image($"job_bb{i:x4}", isPrivate: i % 4 == 0), default)));

        Assert.Equal(40, added.Select(e => e.Id).Distinct().Count());
        Assert.Equal(before + 30, (await a.ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task The_first_page_follows_what_other_instances_add_and_delete()
    {
        await storage.Tables.CreateTableIfNotExistsAsync(StorageNames.HistoryTable);
        var (reader, writer) = (new ImageHistory(storage.Tables), new ImageHistory(storage.Tables));
        var added = await writer.AddAsync(Image("job_cc01"), default);
        var first = await reader.ListPublicAsync(5, 0, default);
        Assert.Equal(added.Id, first.Images[0].Id);
        Assert.Equal(first.Images.Select(i => i.Id), (await reader.ListPublicAsync(5, 0, default)).Images.Select(i => i.Id));

        var newer = await writer.AddAsync(Image("job_cc02"), default);
        var afterAdd = await reader.ListPublicAsync(5, 0, default);
        Assert.Equal([newer.Id, added.Id], afterAdd.Images.Take(2).Select(i => i.Id));
        Assert.Equal(first.Total + 1, afterAdd.Total);
        Assert.Single((await reader.ListPublicAsync(1, 0, default)).Images);
        Assert.Equal(2, (await reader.ListPublicAsync(2, 0, default)).Images.Count); // a longer page than the one kept is read anew

        await writer.DeleteAsync(newer.Id, default);
        var afterDelete = await reader.ListPublicAsync(5, 0, default);
        Assert.Equal(added.Id, afterDelete.Images[0].Id);
        Assert.Equal(first.Total, afterDelete.Total);
    }
}

using Microsoft.Extensions.DependencyInjection;
using Functions.History;
using Functions.Storage;

namespace Functions.Tests.Storage;

public sealed class ImageHistoryTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    ImageHistory NewInstance() => new(storage.Table(StorageNames.HistoryTable));

    internal static ImageEntry Image(string jobId, bool isPrivate = false) =>
        new(0, "file_" + jobId[4..], "p", "realistic", "1:1", "grok", isPrivate, null, DateTimeOffset.UtcNow, jobId);

    [Fact]
    public async Task Adding_for_the_same_job_twice_keeps_one_row_and_one_id()
    {
        var history = NewInstance();
        var before = (await history.ListPublicAsync(1, 0, default)).Total;

        var first = await history.AddAsync(Image("job_aa01"), default);
        var second = await NewInstance().AddAsync(Image("job_aa01"), default); // another instance, e.g. after a crash

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(before + 1, (await history.ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task Two_instances_writing_at_once_never_share_an_id_and_keep_the_count()
    {
        var (a, b) = (NewInstance(), NewInstance());
        var before = (await a.ListPublicAsync(1, 0, default)).Total;

        var added = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? a : b).AddAsync(Image($"job_bb{i:x4}", isPrivate: i % 4 == 0), default)));

        Assert.Equal(40, added.Select(e => e.Id).Distinct().Count());
        Assert.Equal(before + 30, (await a.ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task A_counter_row_removed_by_hand_is_counted_again_from_the_images()
    {
        var history = NewInstance();
        var first = await history.AddAsync(Image("job_f0f01"), default);
        var newest = await history.AddAsync(Image("job_f0f02", isPrivate: true), default);
        var table = storage.Table(StorageNames.HistoryTable);
        await table.DeleteEntityAsync("history", "counter");

        Assert.Equal(first.Id, (await history.DeleteAsync(first.Id, default))?.Id); // this instance still holds the counter it wrote

        var added = await NewInstance().AddAsync(Image("job_f0f03"), default); // an id past every image's, not 1 again
        var deleted = await NewInstance().DeleteAsync(newest.Id, default);

        Assert.Equal(newest.Id + 1, added.Id);
        Assert.Equal(newest.Id, deleted?.Id);
        var publicRows = 0L;
        await foreach (var _ in table.QueryAsync<Azure.Data.Tables.TableEntity>("PartitionKey eq 'history' and RowKey ge 'pub-' and RowKey lt 'pub.'"))
            publicRows++;
        Assert.Equal(publicRows, (await NewInstance().ListPublicAsync(1, 0, default)).Total); // counted from the rows themselves
    }

    [Fact]
    public async Task An_instance_holding_a_counter_row_since_removed_by_hand_still_adds_past_every_image()
    {
        var history = NewInstance();
        var newest = await history.AddAsync(Image("job_f0f11"), default);
        await storage.Table(StorageNames.HistoryTable).DeleteEntityAsync("history", "counter");

        var added = await history.AddAsync(Image("job_f0f12"), default); // its replace of the counter it holds meets a 404

        Assert.Equal(newest.Id + 1, added.Id);
    }

    [Fact]
    public async Task The_first_page_follows_what_other_instances_add_and_delete()
    {
        var (reader, writer) = (NewInstance(), NewInstance());
        var added = await writer.AddAsync(Image("job_cc01"), default);
        var first = await reader.ListPublicAsync(5, 0, default);
        Assert.Equal(added.Id, first.Images[0].Id);
        Assert.Equal(first.Images.Select(i => i.Id), (await reader.ListPublicAsync(5, 0, default)).Images.Select(i => i.Id));

        var newer = await writer.AddAsync(Image("job_cc02"), default);
        var afterAdd = await reader.ListPublicAsync(5, 0, default);
        Assert.Equal([newer.Id, added.Id], afterAdd.Images.Take(2).Select(i => i.Id));
        Assert.Equal(first.Total + 1, afterAdd.Total);
        var shortPage = NewInstance();
        Assert.Single((await shortPage.ListPublicAsync(1, 0, default)).Images);
        Assert.Equal(2, (await shortPage.ListPublicAsync(2, 0, default)).Images.Count); // a longer page than the one kept is read anew

        await writer.DeleteAsync(newer.Id, default);
        var afterDelete = await reader.ListPublicAsync(5, 0, default);
        Assert.Equal(added.Id, afterDelete.Images[0].Id);
        Assert.Equal(first.Total, afterDelete.Total);
    }

    [Fact]
    public async Task With_its_counter_cached_an_add_is_one_storage_request_for_row_marker_and_counter()
    {
        var history = NewInstance();
        await history.AddAsync(Image("job_dd01"), default); // reads the counter once

        var before = storage.Counter.Count;
        var added = await history.AddAsync(Image("job_dd02"), default);

        Assert.Equal(1, storage.Counter.Count - before);
        Assert.Equal(added.Id, (await history.ListPublicAsync(1, 0, default)).Images[0].Id);
    }

    [Fact]
    public async Task Private_images_are_never_listed_nor_counted_as_public()
    {
        var history = NewInstance();
        var before = await history.ListPublicAsync(100, 0, default);

        var hidden = await history.AddAsync(Image("job_ee01", isPrivate: true), default);
        var shown = await history.AddAsync(Image("job_ee02"), default);
        var after = await history.ListPublicAsync(100, 0, default);

        Assert.Equal(before.Total + 1, after.Total);
        Assert.Contains(after.Images, i => i.Id == shown.Id);
        Assert.DoesNotContain(after.Images, i => i.Id == hidden.Id);
    }

    [Fact]
    public async Task While_the_counter_is_unchanged_a_first_page_is_one_storage_request_and_cut_to_its_limit()
    {
        var history = NewInstance();
        foreach (var i in Enumerable.Range(0, 3)) await history.AddAsync(Image($"job_ad{i:x2}"), default);
        var kept = await history.ListPublicAsync(5, 0, default);

        var before = storage.Counter.Count;
        var shorter = await history.ListPublicAsync(2, 0, default);

        Assert.Equal(1, storage.Counter.Count - before); // the counter row's point read, whatever the size of the history
        Assert.Equal(kept.Images.Take(2).Select(i => i.Id), shorter.Images.Select(i => i.Id));
        Assert.Equal(kept.Total, shorter.Total);
    }

    [Fact]
    public async Task The_file_ids_are_those_of_public_and_private_images()
    {
        var history = NewInstance();
        var shown = await history.AddAsync(Image("job_ae01"), default);
        var hidden = await history.AddAsync(Image("job_ae02", isPrivate: true), default);

        var fileIds = await history.FileIdsAsync(default);

        Assert.Contains(shown.FileId, fileIds);
        Assert.Contains(hidden.FileId, fileIds);
    }

    [Fact]
    public async Task Offsets_page_through_public_images_newest_first()
    {
        var history = NewInstance();
        foreach (var i in Enumerable.Range(0, 5)) await history.AddAsync(Image($"job_ff{i:x2}"), default);
        var all = (await history.ListPublicAsync(100, 0, default)).Images.Select(i => i.Id).ToList();

        var fromSecond = await history.ListPublicAsync(2, 1, default);
        var second = await history.ListPublicAsync(2, 2, default);
        var beyond = await history.ListPublicAsync(2, all.Count, default);

        Assert.Equal(all.OrderDescending(), all);
        Assert.Equal(all.Skip(1).Take(2), fromSecond.Images.Select(i => i.Id));
        Assert.Equal(all.Skip(2).Take(2), second.Images.Select(i => i.Id));
        Assert.Equal(all.Count, second.Total);
        Assert.Empty(beyond.Images);
    }

    [Fact]
    public async Task Deleting_an_image_another_instance_deletes_meanwhile_finds_none_and_counts_it_once()
    {
        var other = NewInstance();
        var image = await other.AddAsync(Image("job_ac01"), default);
        var before = (await other.ListPublicAsync(1, 0, default)).Total;
        var raced = 0;
        // The other instance's delete lands between this one's read of the row and its own transaction.
        using var services = new RecordingTransport(request =>
        {
            if (RecordingTransport.IsTableTransaction(request) && Interlocked.Exchange(ref raced, 1) == 0)
                Task.Run(() => other.DeleteAsync(image.Id, default)).GetAwaiter().GetResult();
            return null;
        }).AppStorage(storage.ConnectionString);
        var history = new ImageHistory(services.GetRequiredKeyedService<Azure.Data.Tables.TableClient>(StorageNames.HistoryTable));

        Assert.Null(await history.DeleteAsync(image.Id, default)); // a 404, not 50 attempts and an error

        Assert.Equal(1, raced);
        Assert.Equal(before - 1, (await NewInstance().ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task A_delete_whose_write_landed_but_whose_answer_was_lost_says_it_deleted_the_image()
    {
        var image = await NewInstance().AddAsync(Image("job_ah01"), default);
        var before = (await NewInstance().ListPublicAsync(1, 0, default)).Total;
        var lose = 1;
        // The transaction lands and its answer is lost: the storage client sends it again, and storage answers 404.
        using var services = new RecordingTransport(_ => null, afterSending: request =>
            RecordingTransport.IsTableTransaction(request) && Interlocked.Exchange(ref lose, 0) == 1 ? RecordingTransport.Error(request, 503, "lost") : null)
            .AppStorage(storage.ConnectionString);
        var history = new ImageHistory(services.GetRequiredKeyedService<Azure.Data.Tables.TableClient>(StorageNames.HistoryTable));

        // Null before: the DELETE then answered 404 and kept the image's file, downloadable, for the sweep's hour.
        Assert.Equal(image.Id, (await history.DeleteAsync(image.Id, default))?.Id);

        Assert.Equal(0, lose);
        Assert.Equal(before - 1, (await NewInstance().ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task An_instance_deletes_with_a_counter_another_instance_has_moved_since()
    {
        var (holder, other) = (NewInstance(), NewInstance());
        var image = await holder.AddAsync(Image("job_ag01"), default);
        await other.AddAsync(Image("job_ag02"), default); // the counter holder wrote is no longer the row's: its replace meets a 412
        var before = (await holder.ListPublicAsync(1, 0, default)).Total;

        Assert.Equal(image.Id, (await holder.DeleteAsync(image.Id, default))?.Id);
        Assert.Equal(before - 1, (await NewInstance().ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task Deleting_a_jobs_image_removes_its_row_and_marker_so_the_job_may_store_again()
    {
        var history = NewInstance();
        var first = await history.AddAsync(Image("job_ab01"), default);

        Assert.Equal(first.Id, (await history.DeleteByKeyAsync("job_ab01", default))?.Id);
        Assert.Null(await history.DeleteByKeyAsync("job_ab01", default));
        Assert.Null(await history.DeleteAsync(first.Id, default));
        var again = await history.AddAsync(Image("job_ab01"), default);
        Assert.True(again.Id > first.Id);
    }
}

/// <summary>A history longer than one page of keys (1,000), on storage of its own so that the other tests' pages stay short.</summary>
public sealed class LongImageHistoryTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task An_offset_past_the_first_thousand_keys_reads_on_into_the_next_page()
    {
        var history = new ImageHistory(storage.Table(StorageNames.HistoryTable));
        for (var i = 0; i < 1002; i++)
            await history.AddAsync(ImageHistoryTests.Image($"job_{i:x4}"), default);

        var page = await history.ListPublicAsync(5, 1001, default); // the 1,000 keys of the first page, then one more

        Assert.Equal(1, Assert.Single(page.Images).Id); // the oldest
        Assert.Equal(1002, page.Total);
    }
}

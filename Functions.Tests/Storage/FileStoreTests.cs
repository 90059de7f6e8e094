using Functions.Files;
using Functions.Generation;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Storage;

public sealed class FileStoreTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    static readonly byte[] Bytes = [.. Enumerable.Range(0, 100).Select(i => (byte)i)];
    FileStore Files => new(storage.Files);

    async Task<string> SaveAsync(bool isPrivate = false, IReadOnlyDictionary<string, string>? meta = null, DateTimeOffset? at = null)
    {
        var now = at ?? DateTimeOffset.UtcNow;
        var id = FileIds.New(now);
        await Files.SaveAsync(id, Bytes, "image/png", "photo.png", now, isPrivate, meta);
        return id;
    }

    static async Task<byte[]> ReadAsync(Stream content, int count = int.MaxValue)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16];
        int read;
        while (buffer.Length < count && (read = await content.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, count - buffer.Length)))) > 0)
            buffer.Write(chunk, 0, read);
        return buffer.ToArray();
    }

    [Fact]
    public async Task An_unconfirmed_write_that_lands_after_its_take_back_is_taken_back_again()
    {
        var id = FileIds.New(DateTimeOffset.UtcNow);

        await Files.TakeBackUnconfirmedAsync(id, lateWrites: TimeSpan.FromSeconds(1)); // nothing there yet
        await Files.SaveAsync(id, Bytes, "image/png", "late.png", DateTimeOffset.UtcNow, isPrivate: false); // storage applies the write now

        await Eventually.HoldsAsync(async () => !await storage.Files.GetBlobClient(id).ExistsAsync()); // was kept: listed for good
    }

    [Fact]
    public async Task A_file_deleted_between_its_record_and_its_bytes_reads_as_not_found()
    {
        var id = await SaveAsync();
        var deleted = 0;
        // The delete lands between the read of the file's record and the read pinned to its version (If-Match): 412.
        using var services = new RecordingTransport(request =>
        {
            if (request.Headers.TryGetValue("If-Match", out _) && request.Uri.Path.EndsWith("/" + id, StringComparison.Ordinal)
                && Interlocked.Exchange(ref deleted, 1) == 0)
                storage.Files.GetBlobClient(id).Delete();
            return null;
        }).AppStorage(storage.ConnectionString);
        var files = new FileStore(services.GetRequiredKeyedService<Azure.Storage.Blobs.BlobContainerClient>(Functions.Storage.StorageNames.FilesContainer));

        Assert.Null(await files.OpenReadAsync(id, default));
        Assert.Equal(1, deleted);
    }

    [Fact]
    public async Task A_reference_read_for_a_job_is_the_files_bytes_and_a_file_gone_meanwhile_is_reference_not_found()
    {
        var references = new FileReferences(Files);
        var id = await SaveAsync();

        Assert.Equal(Bytes, (await references.ReadAsync(id, default))!.Value.ToArray());
        Assert.Null(await references.ReadAsync(null, default)); // no reference, not an empty one
        await Files.DeleteAsync(id, default);

        var failure = await Assert.ThrowsAsync<GenerationFailedException>(() => references.ReadAsync(id, default));
        Assert.Equal((GenerationErrors.ReferenceNotFound, false), (failure.Code, failure.Retryable)); // no fallback would find it either
    }

    [Fact]
    public async Task A_saved_file_comes_back_with_its_bytes_type_etag_and_record()
    {
        var id = await SaveAsync(isPrivate: true, new Dictionary<string, string> { ["kind"] = "upload", ["width"] = "10" });

        var content = (await Files.OpenReadAsync(id, default))!;
        await using var stream = content.Content;
        var record = (await Files.GetAsync(id, default))!;

        Assert.Equal(("photo.png", "image/png", 100L, true), (content.File.Filename, content.File.ContentType, content.File.Size, content.File.IsPrivate));
        Assert.Equal(Bytes, await ReadAsync(stream));
        Assert.StartsWith("\"", content.ETag);
        Assert.True(content.LastModified > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(("photo.png", "image/png", 100L, true), (record.Filename, record.ContentType, record.Size, record.IsPrivate));
        Assert.Equal(new Dictionary<string, string> { ["kind"] = "upload", ["width"] = "10" }, record.Meta);
        Assert.Equal(Bytes, await Files.ReadAllAsync(id, default));
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(90, 10)]
    [InlineData(0, 100)]
    public async Task The_stream_seeks_so_a_byte_range_reads_only_those_bytes(int first, int length)
    {
        var id = await SaveAsync();

        await using var stream = (await Files.OpenReadAsync(id, default))!.Content;
        stream.Seek(first, SeekOrigin.Begin);

        Assert.Equal((true, 100L), (stream.CanSeek, stream.Length));
        Assert.Equal(Bytes[first..(first + length)], await ReadAsync(stream, length));
    }

    [Fact]
    public async Task Delete_removes_the_file_and_a_missing_file_reads_as_absent()
    {
        var id = await SaveAsync();

        Assert.True(await Files.DeleteAsync(id, default));
        Assert.False(await Files.DeleteAsync(id, default));
        Assert.Null(await Files.OpenReadAsync(id, default));
        Assert.Null(await Files.GetAsync(id, default));
        Assert.Null(await Files.ReadAllAsync(id, default));
    }

    [Fact]
    public async Task The_list_pages_newest_first_through_the_files_it_may_show()
    {
        var suite = Guid.NewGuid().ToString("N");
        var start = DateTimeOffset.UtcNow;
        var ids = new List<string>();
        foreach (var i in Enumerable.Range(0, 4))
            ids.Add(await SaveAsync(isPrivate: i == 1, new Dictionary<string, string> { ["suite"] = suite }, start.AddSeconds(i)));
        bool Mine(StoredFile file) => file.Meta.GetValueOrDefault("suite") == suite && !file.IsPrivate;

        var first = await Files.ListAsync(null, 2, Mine, default);
        var second = await Files.ListAsync(first.NextMarker, 2, Mine, default);

        Assert.Equal([ids[3], ids[2]], first.Files.Select(f => f.FileId));
        Assert.NotNull(first.NextMarker);
        Assert.Equal([ids[0]], second.Files.Select(f => f.FileId));
    }

    [Fact]
    public async Task The_list_reads_past_hundreds_of_files_it_may_not_show_in_a_few_requests_and_skips_none_it_may()
    {
        var suite = Guid.NewGuid().ToString("N");
        var start = DateTimeOffset.UtcNow.AddDays(1); // newer than any other test's files, so that the list meets these first
        var meta = new Dictionary<string, string> { ["suite"] = suite };
        var older = await SaveAsync(isPrivate: false, meta, start);
        var oldest = await SaveAsync(isPrivate: false, meta, start.AddMilliseconds(-1));
        for (var batch = 0; batch < 6; batch++)
            await Task.WhenAll(Enumerable.Range(1, 50).Select(i => SaveAsync(isPrivate: true, meta, start.AddMilliseconds(batch * 50 + i))));
        var newest = await SaveAsync(isPrivate: false, meta, start.AddSeconds(1));
        bool Mine(StoredFile file) => file.Meta.GetValueOrDefault("suite") == suite && !file.IsPrivate;

        var before = storage.Counter.Count;
        var first = await Files.ListAsync(null, 2, Mine, default);
        var requests = storage.Counter.Count - before;
        var second = await Files.ListAsync(first.NextMarker, 2, Mine, default);

        Assert.Equal([newest, older], first.Files.Select(f => f.FileId));
        Assert.True(requests <= 8, $"{requests} requests"); // 300 private files between the two: one request each before
        Assert.Equal([oldest], second.Files.Select(f => f.FileId));
    }
}

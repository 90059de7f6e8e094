using Azure;
using Functions.Files;

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

    static async Task<byte[]> ReadAsync(FileDownload download)
    {
        using var buffer = new MemoryStream();
        await download.Content.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    [Fact]
    public async Task A_saved_file_comes_back_with_its_bytes_type_etag_and_record()
    {
        var id = await SaveAsync(isPrivate: true, new Dictionary<string, string> { ["kind"] = "upload", ["width"] = "10" });

        using var download = (await Files.OpenAsync(id, null, null, default))!;
        var record = (await Files.GetAsync(id, default))!;

        Assert.Equal((200, "image/png", 100L), (download.Status, download.ContentType, download.ContentLength));
        Assert.Equal(Bytes, await ReadAsync(download));
        Assert.StartsWith("\"", download.ETag);
        Assert.True(FileStore.IsPrivate(download));
        Assert.Equal(("photo.png", "image/png", 100L, true), (record.Filename, record.ContentType, record.Size, record.IsPrivate));
        Assert.Equal(new Dictionary<string, string> { ["kind"] = "upload", ["width"] = "10" }, record.Meta);
        Assert.Equal(Bytes, await Files.ReadAllAsync(id, default));
    }

    [Theory]
    [InlineData("bytes=10-19", 10, 10)]
    [InlineData("bytes=90-", 90, 10)]
    [InlineData("bytes=-10", 90, 10)]
    [InlineData("bytes=-500", 0, 100)]
    public async Task A_byte_range_answers_206_with_only_those_bytes(string range, int first, int length)
    {
        var id = await SaveAsync();

        using var download = (await Files.OpenAsync(id, range, null, default))!;

        Assert.Equal(206, download.Status);
        Assert.Equal($"bytes {first}-{first + length - 1}/100", download.ContentRange);
        Assert.Equal(Bytes[first..(first + length)], await ReadAsync(download));
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=-0")]
    [InlineData("bytes=99999999999999999999-")]
    public async Task A_range_with_no_byte_of_the_file_is_refused_with_416(string range)
    {
        var id = await SaveAsync();

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => Files.OpenAsync(id, range, null, default));

        Assert.Equal(416, error.Status);
    }

    [Fact]
    public async Task A_matching_etag_answers_304_without_the_bytes()
    {
        var id = await SaveAsync();
        string etag;
        using (var first = (await Files.OpenAsync(id, null, null, default))!) etag = first.ETag!;

        using var again = (await Files.OpenAsync(id, null, etag, default))!;

        Assert.Equal(304, again.Status);
        Assert.Equal(etag, again.ETag);
    }

    [Fact]
    public async Task Delete_removes_the_file_and_a_missing_file_reads_as_absent()
    {
        var id = await SaveAsync();

        Assert.True(await Files.DeleteAsync(id, default));
        Assert.False(await Files.DeleteAsync(id, default));
        Assert.Null(await Files.OpenAsync(id, null, null, default));
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
}

using System.Text;
using Functions.Storage;

namespace Functions.Tests.Storage;

public sealed class BlobStorageTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    [Fact]
    public async Task Upload_then_download_returns_bytes_type_and_metadata()
    {
        await storage.Blobs.CreateContainerIfNotExistsAsync("blobs");
        await storage.Blobs.CreateContainerIfNotExistsAsync("blobs"); // twice is fine
        var bytes = Encoding.UTF8.GetBytes("hello blob storage");

        var etag = await storage.Blobs.UploadAsync("blobs", "dir/a b.txt", bytes, "text/plain",
            new Dictionary<string, string> { ["owner"] = "tests" });

        using var download = await storage.Blobs.DownloadAsync("blobs", "dir/a b.txt");
        Assert.NotNull(download);
        Assert.Equal(200, download.Status);
        Assert.Equal("text/plain", download.ContentType);
        Assert.Equal(bytes.Length, download.ContentLength);
        Assert.Equal(etag, download.ETag);
        Assert.Equal("tests", download.Metadata["owner"]);
        using var reader = new StreamReader(download.Content);
        Assert.Equal("hello blob storage", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task Listing_pages_through_a_prefix_in_name_order_with_properties_and_metadata()
    {
        await storage.Blobs.CreateContainerIfNotExistsAsync("listing");
        foreach (var name in new[] { "p-3", "p-1", "q-1", "p-2" })
            await storage.Blobs.UploadAsync("listing", name, new byte[name.Length], "image/png", new Dictionary<string, string> { ["Kind"] = name });

        var first = await storage.Blobs.ListAsync("listing", "p-", marker: null, maxResults: 2);
        var second = await storage.Blobs.ListAsync("listing", "p-", first.NextMarker, maxResults: 2);

        Assert.Equal(["p-1", "p-2"], first.Blobs.Select(b => b.Name));
        Assert.NotNull(first.NextMarker);
        Assert.Equal(["p-3"], second.Blobs.Select(b => b.Name));
        Assert.Null(second.NextMarker);
        var blob = second.Blobs[0].Properties;
        Assert.Equal(("image/png", 3L, "p-3"), (blob.ContentType, blob.ContentLength, blob.Metadata["kind"]));
    }

    [Fact]
    public async Task Ranged_download_returns_only_the_range()
    {
        await storage.Blobs.CreateContainerIfNotExistsAsync("blobs");
        await storage.Blobs.UploadAsync("blobs", "range.bin", Enumerable.Range(0, 100).Select(i => (byte)i).ToArray(), "application/octet-stream");

        using var download = await storage.Blobs.DownloadAsync("blobs", "range.bin", range: "bytes=10-19");

        Assert.Equal(206, download!.Status);
        Assert.Equal(10, download.ContentLength);
        Assert.Equal("bytes 10-19/100", download.ContentRange);
        var buffer = new MemoryStream();
        await download.Content.CopyToAsync(buffer);
        Assert.Equal(Enumerable.Range(10, 10).Select(i => (byte)i), buffer.ToArray());
    }

    [Fact]
    public async Task Matching_etag_answers_not_modified()
    {
        await storage.Blobs.CreateContainerIfNotExistsAsync("blobs");
        var etag = await storage.Blobs.UploadAsync("blobs", "etag.txt", "x"u8.ToArray(), "text/plain");

        using var download = await storage.Blobs.DownloadAsync("blobs", "etag.txt", ifNoneMatch: etag);

        Assert.Equal(304, download!.Status);
    }

    [Fact]
    public async Task Delete_removes_the_blob_and_reports_missing_ones()
    {
        await storage.Blobs.CreateContainerIfNotExistsAsync("blobs");
        await storage.Blobs.UploadAsync("blobs", "gone.txt", "x"u8.ToArray(), "text/plain");

        Assert.True(await storage.Blobs.DeleteAsync("blobs", "gone.txt"));
        Assert.False(await storage.Blobs.DeleteAsync("blobs", "gone.txt"));
        Assert.Null(await storage.Blobs.DownloadAsync("blobs", "gone.txt"));
        Assert.Null(await storage.Blobs.GetPropertiesAsync("blobs", "gone.txt"));
    }

    [Fact]
    public async Task Missing_container_surfaces_as_storage_exception_with_code()
    {
        var error = await Assert.ThrowsAsync<StorageException>(() =>
            storage.Blobs.UploadAsync("no-such-container", "x", "x"u8.ToArray(), "text/plain"));
        Assert.Equal(404, error.Status);
        Assert.Equal("ContainerNotFound", error.ErrorCode);
    }
}

using Azure;
using Functions.Files;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Unit;

/// <summary>A file deleted while it is downloaded: a 404 if nothing was sent yet, a cut-off connection (and no exception for the host to log) once bytes went out.</summary>
public sealed class FileDownloadResultTests
{
    const int Size = 1000;

    [Fact]
    public async Task Deleted_before_the_first_byte_is_a_404_in_the_kiapi_shape()
    {
        var (context, sent) = Context();

        await Download(new DeletedAfter(0)).ExecuteAsync(context);

        Assert.Equal(StatusCodes.Status404NotFound, context.Response.StatusCode);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(sent.ToArray()).RootElement.GetProperty("detail").ValueKind);
        Assert.False(context.Response.Headers.ContainsKey("Content-Disposition"));
    }

    [Fact]
    public async Task Deleted_after_bytes_went_out_cuts_the_connection_off()
    {
        var (context, sent) = Context();

        await Download(new DeletedAfter(100)).ExecuteAsync(context);

        Assert.True(context.RequestAborted.IsCancellationRequested);
        Assert.Equal(100, sent.Length);
    }

    [Fact]
    public async Task A_storage_outage_before_the_first_byte_is_a_503_in_the_kiapi_shape_from_the_result_itself()
    {
        // Under the Functions host a result runs after the worker's middleware has returned: nothing else would answer.
        var (context, sent) = Context();
        context.Request.Path = "/api/v1/files/file_00000000000000000000000001/download";

        await Download(new DeletedAfter(0, new RequestFailedException(503, "The server is busy."))).ExecuteAsync(context);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString());
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(sent.ToArray()).RootElement.GetProperty("detail").ValueKind);
    }

    static FileDownloadResult Download(Stream content) =>
        new("file_00000000000000000000000001", TypedResults.Stream(content, "image/png"), Size);

    static (DefaultHttpContext Context, MemoryStream Sent) Context()
    {
        var sent = new MemoryStream();
        var response = new StartsOnWrite(sent);
        var aborted = new CancellationTokenSource();
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Features.Set<IHttpResponseFeature>(response);
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(response.Body));
        context.Features.Set<IHttpRequestLifetimeFeature>(new Lifetime(aborted));
        context.Request.Method = "GET";
        return (context, sent);
    }

    /// <summary>Gives <paramref name="bytes"/> bytes, then fails as a read of a deleted blob pinned by If-Match does (or with <paramref name="failure"/>).</summary>
    sealed class DeletedAfter(int bytes, Exception? failure = null) : MemoryStream(new byte[Size])
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position >= bytes ? throw failure ?? new RequestFailedException(412, "The condition specified using HTTP conditional header(s) is not met.")
                : base.ReadAsync(buffer[..(int)Math.Min(buffer.Length, bytes - Position)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <summary>A response that has started once a byte of its body was written, as a server's does.</summary>
    sealed class StartsOnWrite(MemoryStream sent) : HttpResponseFeature
    {
        public override bool HasStarted => sent.Length > 0;
        public new Stream Body => sent;
    }

    sealed class Lifetime(CancellationTokenSource aborted) : IHttpRequestLifetimeFeature
    {
        public CancellationToken RequestAborted { get => aborted.Token; set { } }
        public void Abort() => aborted.Cancel();
    }
}

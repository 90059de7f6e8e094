using System.Text.RegularExpressions;
using Azure;
using Functions.Files;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

using Microsoft.Azure.Functions.Worker;

namespace Functions.Kiapi;

public sealed partial class DownloadFile(FileStore files)
{
    /// <summary>
    /// Streams a file's bytes from Blob storage with its type, length and ETag; honours a single byte range (206) and
    /// If-None-Match (304). Files are immutable, so public ones may be cached for a year.
    /// </summary>
    [Function(nameof(DownloadFile))]
    public async Task<Results<EmptyHttpResult, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v1/files/{file_id}/download")] HttpRequest httpRequest, string file_id,
        CancellationToken cancellationToken)
    {
        var context = httpRequest.HttpContext;
        if (!FileIds.IsFileId(file_id)) return KiapiErrors.InvalidPath("file_id", FileIds.Pattern, file_id);
        var request = context.Request;
        var range = SingleRange().Match(request.Headers.Range.ToString()) is { Success: true } m ? m.Value : null;
        var ifNoneMatch = request.Headers.IfNoneMatch.ToString() is { Length: > 0 } tag ? tag : null;

        FileDownload? download;
        try
        {
            download = await files.OpenAsync(file_id, range, ifNoneMatch, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status416RangeNotSatisfiable)
        {
            var size = (await files.GetAsync(file_id, cancellationToken))?.Size ?? 0;
            context.Response.Headers.ContentRange = $"bytes */{size}";
            return KiapiErrors.Of(StatusCodes.Status416RangeNotSatisfiable, $"Range {range} is outside the file's {size} bytes");
        }
        if (download is null) return KiapiErrors.NotFound($"File {file_id} not found");

        using (download)
        {
            var response = context.Response;
            response.StatusCode = download.Status;
            response.Headers.ETag = download.ETag;
            response.Headers.CacheControl = FileStore.IsPrivate(download) ? "private, max-age=3600" : "public, max-age=31536000, immutable";
            response.Headers.AcceptRanges = "bytes";
            if (download.LastModified is { } modified) response.Headers.LastModified = modified.ToString("R");
            if (download.Status == StatusCodes.Status304NotModified) return TypedResults.Empty;

            response.ContentType = download.ContentType;
            response.ContentLength = download.ContentLength;
            if (download.ContentRange is { } contentRange) response.Headers.ContentRange = contentRange;
            response.Headers[HeaderNames.ContentDisposition] = $"inline; filename=\"{file_id}{Extension(download.ContentType)}\"";
            await download.Content.CopyToAsync(response.Body, cancellationToken);
            return TypedResults.Empty;
        }
    }

    static string Extension(string contentType) => "." + Generation.ImageFormats.ExtensionOf(contentType);

    // One range only ("bytes=0-99", "bytes=100-", "bytes=-500"); anything else is ignored and the whole file is served.
    [GeneratedRegex(@"^bytes=(\d+-\d*|-\d+)$")]
    private static partial Regex SingleRange();
}

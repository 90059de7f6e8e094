using Functions.Contracts.Kiapi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Net.Http.Headers;

namespace Functions.Files;

public sealed class DownloadFile(FileStore files)
{
    /// <summary>
    /// A file's bytes with its type, length, ETag and Last-Modified. ASP.NET Core's file result does the HTTP: a single
    /// byte range (206, suffix ranges included), If-Range, If-None-Match and If-Modified-Since (304), HEAD without a
    /// body. Files are immutable, so public ones may be cached for a year.
    /// </summary>
    [Function(nameof(DownloadFile))]
    public async Task<Results<FileStreamHttpResult, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v1/files/{file_id}/download")] HttpRequest request, string file_id,
        CancellationToken cancellationToken)
    {
        if (!FileIds.IsFileId(file_id)) return KiapiErrors.InvalidPath("file_id", FileIds.Pattern, file_id);
        var content = await files.OpenReadAsync(file_id, cancellationToken);
        if (content is null) return KiapiErrors.NotFound($"File {file_id} not found");

        var file = content.File;
        var response = request.HttpContext.Response;
        response.Headers.CacheControl = file.IsPrivate ? "private, max-age=3600" : "public, max-age=31536000, immutable";
        // The file result applies a range whatever its unit; RFC 9110 (14.2) says to ignore a unit one does not know.
        if (request.Headers.Range.Count > 0 && !IsByteRange(request)) request.Headers.Remove(HeaderNames.Range);
        if (Unsatisfiable(request, content) is { } range)
        {
            await content.Content.DisposeAsync();
            response.Headers.ContentRange = $"bytes */{file.Size}";
            return KiapiErrors.Of(StatusCodes.Status416RangeNotSatisfiable, $"Range {range} selects no byte of the file's {file.Size} bytes");
        }
        response.Headers[HeaderNames.ContentDisposition] = $"inline; filename=\"{file_id}.{Generation.ImageFormats.ExtensionOf(file.ContentType)}\"";
        return TypedResults.Stream(content.Content, file.ContentType, lastModified: content.LastModified,
            entityTag: EntityTagHeaderValue.Parse(content.ETag), enableRangeProcessing: true);
    }

    static bool IsByteRange(HttpRequest request) =>
        RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out var header) && header.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A single range the file cannot satisfy (its first byte past the end), when the range applies (no If-Range, or
    /// one that still names this version). The file result would answer it with an empty 416; kiapi's has a body.
    /// </summary>
    static string? Unsatisfiable(HttpRequest request, FileContent content)
    {
        // Any range left is a byte range (see IsByteRange).
        if (!RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out var header) || header.Ranges.Count != 1) return null;
        var ifRange = request.Headers.IfRange.ToString();
        if (ifRange.Length > 0 && ifRange != content.ETag) return null;
        var range = header.Ranges.Single();
        var size = content.File.Size;
        var empty = range.From is { } from ? from >= size : range.To is 0 || size == 0;
        return empty ? request.Headers.Range.ToString() : null;
    }
}

using Functions.Contracts.Kiapi;
using Microsoft.Net.Http.Headers;

namespace Functions.Files;

public sealed class DownloadFile(FileStore files)
{
    /// <summary>
    /// A file's bytes with its type, length, ETag and Last-Modified. ASP.NET Core's file result does the HTTP: a single
    /// byte range (206, suffix ranges included; 416 with kiapi's body when it selects nothing), If-Range, If-Match and
    /// If-Unmodified-Since (412), If-None-Match and If-Modified-Since (304), HEAD without a body. A file's bytes never
    /// change, but a file can be deleted: caches keep it an hour at most, then revalidate (a 304 while it exists).
    /// </summary>
    [Function(nameof(DownloadFile))]
    public async Task<Results<FileDownloadResult, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.FileDownload)] HttpRequest request, string file_id,
        CancellationToken cancellationToken)
    {
        if (!FileIds.InPath.MayExist(file_id, out var malformed)) return malformed is null ? FileFunctions.NotFound(file_id) : malformed;
        var content = await files.OpenReadAsync(file_id, cancellationToken);
        if (content is null) return FileFunctions.NotFound(file_id);

        var file = content.File;
        var response = request.HttpContext.Response;
        response.Headers.CacheControl = file.IsPrivate ? "private, max-age=3600" : "public, max-age=3600";
        // A JPEG may carry other bytes after its image (README): a browser must not guess another type from them.
        response.Headers.XContentTypeOptions = "nosniff";
        // The file result applies a range whatever its unit, under an If-Range it cannot read, and under an If-Range date
        // later than the file's; RFC 9110 ignores the first (14.2) and takes the others as false (13.1.5): the whole file.
        if (request.Headers.Range.Count > 0 && (!IsByteRange(request) || !IfRangeHolds(request, content.LastModified)))
            request.Headers.Remove(HeaderNames.Range);
        var etag = EntityTagHeaderValue.Parse(content.ETag);
        // The file result lets an If-Match that holds outweigh If-None-Match (a 200 for a 304); RFC 9110 (13.2.2) goes on
        // to If-None-Match and skips If-Unmodified-Since: an If-Match that holds has said all it can.
        if (IfMatchHolds(request, etag))
        {
            request.Headers.Remove(HeaderNames.IfMatch);
            request.Headers.Remove(HeaderNames.IfUnmodifiedSince);
        }
        // The file result also weighs If-Modified-Since beside If-None-Match, and the later date wins (a 200 for a 304);
        // RFC 9110 (13.2.2) looks at If-Modified-Since only when there is no If-None-Match.
        if (request.Headers.IfNoneMatch.Count > 0) request.Headers.Remove(HeaderNames.IfModifiedSince);
        response.Headers[HeaderNames.ContentDisposition] = $"inline; filename=\"{file_id}.{Generation.ImageFormats.ExtensionOf(file.ContentType)}\"";
        return new FileDownloadResult(file_id, TypedResults.Stream(content.Content, file.ContentType, lastModified: content.LastModified,
            entityTag: etag, enableRangeProcessing: true), file.Size);
    }

    static bool IfMatchHolds(HttpRequest request, EntityTagHeaderValue etag) =>
        request.Headers.IfMatch.Count > 0 && EntityTagHeaderValue.TryParseList(request.Headers.IfMatch, out var tags)
        && tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(etag, useStrongComparison: true));

    // An entity tag is compared by the file result (strongly); a date holds only when it is the Last-Modified sent, to the second.
    static bool IfRangeHolds(HttpRequest request, DateTimeOffset lastModified) =>
        request.Headers.IfRange.Count == 0 || RangeConditionHeaderValue.TryParse(request.Headers.IfRange.ToString(), out var condition)
        && (condition.LastModified is not { } date || date.ToUnixTimeSeconds() == lastModified.ToUnixTimeSeconds());

    static bool IsByteRange(HttpRequest request) =>
        RangeHeaderValue.TryParse(request.Headers.Range.ToString(), out var header) && header.Unit.Equals("bytes", StringComparison.OrdinalIgnoreCase);
}

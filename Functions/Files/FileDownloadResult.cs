using Functions.Contracts.Kiapi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Functions.Files;

/// <summary>
/// A file's bytes through ASP.NET Core's file result, which does the HTTP (preconditions in RFC 9110's order, then
/// If-Range and the range), except that its 412 and 416 have no body and kiapi's errors have one: those answers get
/// their detail, the same under either host.
/// </summary>
public sealed class FileDownloadResult(FileStreamHttpResult file, long size) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        await file.ExecuteAsync(httpContext);
        var response = httpContext.Response;
        if (response.StatusCode < StatusCodes.Status400BadRequest || response.HasStarted) return;
        response.ContentLength = null;
        response.Headers.Remove(HeaderNames.ContentDisposition);
        response.Headers.CacheControl = "no-store";
        var detail = response.StatusCode == StatusCodes.Status416RangeNotSatisfiable
            ? $"Range {httpContext.Request.Headers.Range} selects no byte of the file's {size} bytes"
            : "A precondition of the request (If-Match, If-Unmodified-Since) does not hold for this file";
        await KiapiErrors.Of(response.StatusCode, detail).ExecuteAsync(httpContext);
    }
}

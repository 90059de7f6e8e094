using Functions.Contracts.Kiapi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Files;

/// <summary>
/// A file's bytes through ASP.NET Core's file result, which does the HTTP (preconditions in RFC 9110's order, then
/// If-Range and the range), except that its 416 has no body and kiapi's errors have one: that answer gets its detail.
/// </summary>
public sealed class FileDownloadResult(FileStreamHttpResult file, long size) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        await file.ExecuteAsync(httpContext);
        var response = httpContext.Response;
        if (response.StatusCode != StatusCodes.Status416RangeNotSatisfiable || response.HasStarted) return;
        response.ContentLength = null;
        response.Headers.CacheControl = "no-store";
        await KiapiErrors.Of(StatusCodes.Status416RangeNotSatisfiable,
            $"Range {httpContext.Request.Headers.Range} selects no byte of the file's {size} bytes").ExecuteAsync(httpContext);
    }
}

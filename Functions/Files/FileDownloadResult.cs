using Azure;
using Functions.Contracts.Kiapi;
using Microsoft.Net.Http.Headers;

namespace Functions.Files;

/// <summary>
/// A file's bytes through ASP.NET Core's file result, which does the HTTP (preconditions in RFC 9110's order, then
/// If-Range and the range), except that its 412 and 416 have no body and kiapi's errors have one: those answers get
/// their detail, the same under either host. The bytes are pinned to the version opened (If-Match), so a file deleted
/// while it is sent answers 404 if nothing was sent yet, and is cut off otherwise: the client sees fewer bytes than the
/// Content-Length it was given, never another file's.
/// </summary>
public sealed class FileDownloadResult(string fileId, FileStreamHttpResult file, long size) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        try
        {
            await file.ExecuteAsync(httpContext);
        }
        // A file is never changed in place (nothing updates a blob's metadata or headers), so a failed If-Match means deleted.
        catch (RequestFailedException e) when (e.Status is StatusCodes.Status404NotFound or StatusCodes.Status412PreconditionFailed)
        {
            if (response.HasStarted)
            {
                httpContext.RequestServices.GetRequiredService<ILogger<FileDownloadResult>>()
                    .LogInformation("File {FileId} was deleted while it was being sent; the download was cut off", fileId);
                httpContext.Abort();
                return;
            }
            response.Clear();
            await FileFunctions.NotFound(fileId).ExecuteAsync(httpContext);
            return;
        }
        // Answered here, not by the error middleware: under the Functions host a result runs after the worker's
        // middleware has returned, so an exception from it would reach the client as the host's bare 500.
        catch (Exception e) when (!response.HasStarted)
        {
            response.Clear();
            await SurfaceErrors.WriteExceptionAsync(httpContext, e);
            return;
        }
        if (response.StatusCode < StatusCodes.Status400BadRequest || response.HasStarted) return;
        response.ContentLength = null;
        response.Headers.Remove(HeaderNames.ContentDisposition);
        response.Headers.CacheControl = "no-store";
        var detail = response.StatusCode == StatusCodes.Status416RangeNotSatisfiable
            ? $"Range {Echo.Quote(httpContext.Request.Headers.Range.ToString())} selects no byte of the file's {size} bytes"
            : "A precondition of the request (If-Match, If-Unmodified-Since) does not hold for this file";
        await KiapiErrors.Of(response.StatusCode, detail).ExecuteAsync(httpContext);
    }
}

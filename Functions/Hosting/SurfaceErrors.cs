using Functions.Kiapi;
using Functions.Kioai;
using Functions.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace Functions.Hosting;

/// <summary>
/// Errors that no handler wrote (unknown route, wrong method, an exception) still answer in the shape of the surface
/// the request came to: kiapi's {"detail"} under /api/v1, kioai's ErrorResponse elsewhere. Never problem details.
/// </summary>
public static class SurfaceErrors
{
    public static WebApplication UseSurfaceErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = WriteExceptionAsync });
        app.UseStatusCodePages(context => WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode, null));
        return app;
    }

    static Task WriteExceptionAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SurfaceErrors));
        var (status, code, message) = error switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "bad_request", bad.Message),
            not null when StorageFaults.IsOutage(error) =>
                (StatusCodes.Status503ServiceUnavailable, "storage_unavailable", "Storage is not reachable right now; try again shortly."),
            _ => (StatusCodes.Status500InternalServerError, "internal_error", "An unexpected error occurred; it has been logged."),
        };
        if (status >= 500) logger.LogError(error, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        context.Response.StatusCode = status;
        return WriteAsync(context, status, (code, message));
    }

    static Task WriteAsync(HttpContext context, int status, (string Code, string Message)? error)
    {
        var (code, message) = error ?? status switch
        {
            StatusCodes.Status404NotFound => ("not_found", $"There is no endpoint at {context.Request.Path}."),
            StatusCodes.Status405MethodNotAllowed => ("method_not_allowed", $"{context.Request.Method} is not allowed on {context.Request.Path}."),
            StatusCodes.Status413PayloadTooLarge => ("body_too_large", "The request body is too large."),
            _ => ("error", $"The request failed with status {status}."),
        };
        return IsKiapi(context.Request.Path)
            ? KiapiErrors.Of(status, message).ExecuteAsync(context)
            : KioaiErrors.Of(status, code, message).ExecuteAsync(context);
    }

    static bool IsKiapi(PathString path) => path.StartsWithSegments("/api/v1");
}

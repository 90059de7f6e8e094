using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;
using Functions.Jobs;
using Functions.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Functions.Hosting;

/// <summary>
/// Errors that no function wrote (an exception; under the local host also an unknown route or a wrong method) still
/// answer in the shape of the surface the request came to: kiapi's {"detail"} under /api/v1 and at /api/health,
/// kioai's ErrorResponse elsewhere. A HEAD request's answer never has a body, whichever function or error wrote it. Never problem details, never a storage service's own error text.
/// </summary>
public static class SurfaceErrors
{
    /// <summary>For an ASP.NET Core host (the local host): exceptions and bodiless error statuses.</summary>
    public static IApplicationBuilder UseSurfaceErrors(this IApplicationBuilder app)
    {
        app.Use((context, next) =>
        {
            context.Response.NameInAnswer(context.TraceIdentifier);
            context.Request.OmitBodyOfHead();
            return next(context);
        });
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = context => WriteExceptionAsync(context, context.Features.Get<IExceptionHandlerFeature>()?.Error),
            // WriteExceptionAsync logs what is ours to log (every 5xx, with its exception); the middleware would log each
            // exception again as "unhandled", a 503 for an outage and a client's bad request included.
            SuppressDiagnosticsCallback = _ => true,
        });
        app.UseStatusCodePages(context => WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode, null));
        return app;
    }

    public static Task WriteExceptionAsync(HttpContext context, Exception? error)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SurfaceErrors));
        if (ClientWentAway(context, error))
        {
            // Nobody is left to answer. A reset, a body cut short or a call canceled with the request is the client's doing;
            // anything else is kept, with its stack, in case it was ours.
            var clientsDoing = error is ConnectionResetException or BadHttpRequestException || error is not null && JobEngineFaults.IsCancellation(error);
            logger.LogInformation(clientsDoing ? null : error, "Request {Method} {Path} ended: the client went away ({Reason})",
                context.Request.Method, context.Request.Path, error?.GetType().Name);
            context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            context.Abort(); // so that the server does not try to drain a body whose connection is gone
            return Task.CompletedTask;
        }
        var (status, code, message, passing) = error switch
        {
            // The server's minimum data rate (Kestrel's default: 240 bytes a second after a 5 s grace), or a body gone silent (SilenceBoundBody).
            BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } =>
                (StatusCodes.Status408RequestTimeout, KioaiErrorCodes.RequestTimeout, "The request body arrived too slowly; send it at a steady rate.", false),
            BadHttpRequestException bad => (bad.StatusCode, KioaiErrorCodes.BadRequest, bad.Message, false),
            // The temporary directory a large body is spooled to (missing, not writable, full): logged with its path, never sent.
            not null when TemporaryFiles.IsFault(error) =>
                (StatusCodes.Status503ServiceUnavailable, KioaiErrorCodes.ServerBusy, "The service cannot hold request bodies right now; try again shortly.", false),
            not null when StorageFaults.IsOutage(error) =>
                (StatusCodes.Status503ServiceUnavailable, KioaiErrorCodes.StorageUnavailable, "Storage is not reachable right now; try again shortly.", true),
            // The Durable backend: the Functions host's extension, or the local host's sidecar.
            not null when JobEngineFaults.IsTaskHubLost(error) =>
                (StatusCodes.Status503ServiceUnavailable, KioaiErrorCodes.JobsUnavailable,
                    "The job engine's storage lost its task hub, and jobs from before with it; it is being made again: try again shortly.", true),
            not null when JobEngineFaults.IsOutage(error) =>
                (StatusCodes.Status503ServiceUnavailable, KioaiErrorCodes.JobsUnavailable, "The job engine is not reachable right now; try again shortly.", true),
            // The process's decode or upload budget stayed taken for the whole wait: this request may be fine.
            Generation.BudgetBusyException => (StatusCodes.Status503ServiceUnavailable, KioaiErrorCodes.ServerBusy, error.Message, true),
            _ => (StatusCodes.Status500InternalServerError, KioaiErrorCodes.InternalError, "An unexpected error occurred; it has been logged.", false),
        };
        if (error is not null && StorageFaults.IsLostResource(error))
        {
            logger.LogWarning("Storage has lost a container or table of the service; it is made again on the next request");
            context.RequestServices.GetService<StorageBootstrap>()?.Forget();
        }
        else if (passing) // load, or an outage that passes: its stack says nothing more, and a burst of them buried the log
            logger.LogWarning("Request {Method} {Path} answered {Status} {Code}: {Reason}", context.Request.Method, context.Request.Path, status, code, FaultText.Of(error!));
        else if (error is not null && TemporaryFiles.IsFault(error) && !TemporaryFiles.LogsStackOf(context))
            logger.LogError("Request {Method} {Path} answered {Status} {Code}: {Reason} (the temporary directory's fault; its stack is logged once a minute)",
                context.Request.Method, context.Request.Path, status, code, FaultText.Of(error));
        else if (status >= 500) logger.LogError(error, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        context.Response.Clear();
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status408RequestTimeout) context.Response.Headers.Connection = "close"; // the rest of the body is not waited for
        if (passing) context.Response.Headers.RetryAfter = OutageRetryAfter; // RFC 9110: when a passing outage is worth another try
        return WriteAsync(context, status, (code, message));
    }

    /// <summary>405 for a method in another case than the route's (<see cref="HeadRequests.HasMethodInAnotherCase"/>), with the methods the path allows.</summary>
    public static Task RefuseMethodInAnotherCaseAsync(HttpContext context, IEnumerable<string> allowed)
    {
        var method = context.Request.Method;
        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        context.Response.Headers.Allow = string.Join(", ", allowed);
        return WriteAsync(context, StatusCodes.Status405MethodNotAllowed, (KioaiErrorCodes.MethodNotAllowed,
            $"{Echo.Quote(method)} is not allowed on {Echo.Quote(TargetOf(context))}: methods are case-sensitive ({HttpMethods.GetCanonicalizedValue(method)})."));
    }

    static Task WriteAsync(HttpContext context, int status, (string Code, string Message)? error)
    {
        var (code, message) = error ?? status switch
        {
            StatusCodes.Status404NotFound => (KioaiErrorCodes.NotFound, $"There is no endpoint at {Echo.Quote(TargetOf(context))}."),
            StatusCodes.Status405MethodNotAllowed => (KioaiErrorCodes.MethodNotAllowed, $"{Echo.Quote(context.Request.Method)} is not allowed on {Echo.Quote(TargetOf(context))}."),
            _ => (KioaiErrorCodes.Error, $"The request failed with status {status}."),
        };
        return Routes.IsKiapi(context.Request.Path)
            ? KiapiErrors.Of(status, message).ExecuteAsync(context)
            : KioaiErrors.Of(status, code, message).ExecuteAsync(context);
    }

    // The path, or the request target when there is none (OPTIONS *).
    static string? TargetOf(HttpContext context) =>
        context.Request.Path.HasValue ? context.Request.Path.Value : context.Features.Get<IHttpRequestFeature>()?.RawTarget;

    // A hint, not a measurement: the storage clients' own retries (about a second) are spent by the time a client sees 503.
    public const string OutageRetryAfter = "5";

    /// <summary>The client reset the connection, or aborted its request, while the request was being read or answered.</summary>
    // A Durable client call reports the request's token firing as an RpcException (Cancelled), not as OperationCanceledException.
    public static bool ClientWentAway(HttpContext context, Exception? error) =>
        error is ConnectionResetException
        || context.RequestAborted.IsCancellationRequested && (error is IOException || error is not null && JobEngineFaults.IsCancellation(error));
}

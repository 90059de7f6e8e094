using Microsoft.Azure.Functions.Worker.Middleware;

namespace Functions.Hosting;

/// <summary>Under the Functions host: an HTTP function's exception answers in its surface's error shape, and a HEAD answer has no body (see <see cref="SurfaceErrors"/>).</summary>
public sealed class SurfaceErrorsMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        context.GetHttpContext()?.Request.OmitBodyOfHead();
        try
        {
            await next(context);
        }
        catch (Exception e) when (context.GetHttpContext() is { Response.HasStarted: false } http)
        {
            await SurfaceErrors.WriteExceptionAsync(http, e);
        }
    }
}

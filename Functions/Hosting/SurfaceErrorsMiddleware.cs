using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;

namespace Functions.Hosting;

/// <summary>Under the Functions host: an HTTP function's exception answers in its surface's error shape (see <see cref="SurfaceErrors"/>).</summary>
public sealed class SurfaceErrorsMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
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

using Microsoft.Azure.Functions.Worker.Middleware;

namespace Functions.Hosting;

/// <summary>Under the Functions host: an HTTP function's exception answers in its surface's error shape, a HEAD answer has no body (see <see cref="SurfaceErrors"/>), and each answer names its invocation (<see cref="RequestIds"/>).</summary>
public sealed class SurfaceErrorsMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is { } request)
        {
            request.Response.NameInAnswer(context.InvocationId);
            request.Request.OmitBodyOfHead();
        }
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

using Microsoft.Azure.Functions.Worker.Middleware;

namespace Functions.Hosting;

/// <summary>Under the Functions host: an HTTP function's exception answers in its surface's error shape, a HEAD answer has no body (see <see cref="SurfaceErrors"/>), and each answer names its invocation (<see cref="RequestIds"/>).</summary>
public sealed class SurfaceErrorsMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var http = context.GetHttpContext(); // none for the orchestrator and activities
        if (http is not null)
        {
            http.Response.NameInAnswer(context.InvocationId);
            // The host's routing matched it ignoring case: the method it matched is the one this function is known to allow.
            if (http.Request.HasMethodInAnotherCase())
            {
                await SurfaceErrors.RefuseMethodInAnotherCaseAsync(http, [HttpMethods.GetCanonicalizedValue(http.Request.Method)]);
                return;
            }
            http.Request.OmitBodyOfHead();
        }
        try
        {
            await next(context);
        }
        catch (Exception e) when (http is { Response.HasStarted: false })
        {
            await SurfaceErrors.WriteExceptionAsync(http, e);
        }
    }
}

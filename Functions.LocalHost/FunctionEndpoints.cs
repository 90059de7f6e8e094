using Microsoft.DurableTask.Client;

namespace Functions.LocalHost;

/// <summary>Maps every HTTP function to an endpoint: route under host.json's routePrefix, the trigger's methods, its name.</summary>
public static class FunctionEndpoints
{
    public static WebApplication MapFunctions(this WebApplication app)
    {
        var catalog = app.Services.GetRequiredService<FunctionCatalog>();
        foreach (var function in catalog.Http)
        {
            app.MapMethods($"/{catalog.Host.RoutePrefix}/{function.Route}", function.HttpMethods, context => InvokeAsync(function, context))
                .WithName(function.Name);
        }
        return app;
    }

    static async Task InvokeAsync(FunctionInfo function, HttpContext context)
    {
        var result = await function.InvokeAsync(context.RequestServices, (parameter, source) => source switch
        {
            ParameterSource.HttpRequest => context.Request,
            ParameterSource.RouteValue => context.Request.RouteValues[parameter.Name!]?.ToString(),
            ParameterSource.CancellationToken => context.RequestAborted,
            ParameterSource.DurableClient => context.RequestServices.GetRequiredService<DurableTaskClient>(),
            _ => throw new NotSupportedException($"{source} in an HTTP function"),
        });
        // As the Worker's ASP.NET Core integration does: an IResult is executed against the request's context.
        if (result is IResult answer) await answer.ExecuteAsync(context);
    }
}

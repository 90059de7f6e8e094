using Microsoft.AspNetCore.Routing.Template;

namespace Functions.LocalHost;

/// <summary>
/// ASP.NET Core decides a wrong method's 405 before it checks route constraints (dotnet/aspnetcore#28535): GET
/// /api/images/abc was a 405 offering DELETE, and DELETE there is a 404 (images/{id:long} takes no "abc"). A 405 stands
/// only where a route of a method it allows takes the path, constraints included; elsewhere the path is a 404.
/// </summary>
public static class MethodNotAllowed
{
    public static WebApplication UseMethodNotAllowedOnlyWhereARouteTakesThePath(this WebApplication app)
    {
        app.UseRouting(); // explicit, so that this runs after routing has picked the 405 and before the error pages write it
        app.Use(async (context, next) =>
        {
            await next(context);
            // The 405 routing made answers with no body and is no RouteEndpoint (ours all are).
            if (context.Response is { StatusCode: StatusCodes.Status405MethodNotAllowed, HasStarted: false }
                && context.GetEndpoint() is not RouteEndpoint && !AnyRouteTakes(context, context.Response.Headers.Allow.ToString()))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                context.Response.Headers.Allow = default;
            }
        });
        return app;
    }

    static bool AnyRouteTakes(HttpContext context, string allowed)
    {
        var methods = allowed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var constraints = context.RequestServices.GetRequiredService<IInlineConstraintResolver>();
        foreach (var endpoint in context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is not { } served
                || !served.HttpMethods.Intersect(methods, StringComparer.OrdinalIgnoreCase).Any())
                continue;
            var values = new RouteValueDictionary();
            if (!new TemplateMatcher(new RouteTemplate(endpoint.RoutePattern), []).TryMatch(context.Request.Path, values)) continue;
            if (endpoint.RoutePattern.ParameterPolicies.All(parameter => parameter.Value.All(policy =>
                    constraints.ResolveConstraint(policy.Content!) is not { } constraint
                    || constraint.Match(context, null, parameter.Key, values, RouteDirection.IncomingRequest))))
                return true;
        }
        return false;
    }
}

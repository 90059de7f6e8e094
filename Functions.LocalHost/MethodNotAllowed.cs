using Functions.Hosting;
using Microsoft.AspNetCore.Routing.Template;

namespace Functions.LocalHost;

/// <summary>
/// ASP.NET Core decides a wrong method's 405 before it checks route constraints (dotnet/aspnetcore#28535): GET
/// /api/images/abc was a 405 offering DELETE, and DELETE there is a 404 (images/{id:long} takes no "abc"). A 405 stands
/// only where a route of a method it allows takes the path, constraints included; elsewhere the path is a 404. A known
/// method in another case ("head"), which routing matches ignoring case, is none of the route's: 405.
/// </summary>
public static class MethodNotAllowed
{
    public static WebApplication UseMethodNotAllowedOnlyWhereARouteTakesThePath(this WebApplication app)
    {
        app.UseRouting(); // explicit, so that this runs after routing has picked the 405 and before the error pages write it
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint() is RouteEndpoint && context.Request.HasMethodInAnotherCase())
            {
                await SurfaceErrors.RefuseMethodInAnotherCaseAsync(context, MethodsOfRoutesTaking(context));
                return;
            }
            await next(context);
            // The 405 routing made answers with no body and is no RouteEndpoint (ours all are).
            if (context.Response is { StatusCode: StatusCodes.Status405MethodNotAllowed, HasStarted: false }
                && context.GetEndpoint() is not RouteEndpoint
                && !MethodsOfRoutesTaking(context).Intersect(AllowedOf(context.Response), StringComparer.OrdinalIgnoreCase).Any())
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                context.Response.Headers.Allow = default;
            }
        });
        return app;
    }

    static string[] AllowedOf(HttpResponse response) =>
        response.Headers.Allow.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The methods of every route that takes the request's path, its constraints included, in order.</summary>
    static SortedSet<string> MethodsOfRoutesTaking(HttpContext context)
    {
        var methods = new SortedSet<string>(StringComparer.Ordinal);
        var constraints = context.RequestServices.GetRequiredService<IInlineConstraintResolver>();
        foreach (var endpoint in context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is not { } served) continue;
            var values = new RouteValueDictionary();
            if (!new TemplateMatcher(new RouteTemplate(endpoint.RoutePattern), []).TryMatch(context.Request.Path, values)) continue;
            if (endpoint.RoutePattern.ParameterPolicies.All(parameter => parameter.Value.All(policy =>
                    constraints.ResolveConstraint(policy.Content!) is not { } constraint
                    || constraint.Match(context, null, parameter.Key, values, RouteDirection.IncomingRequest))))
                methods.UnionWith(served.HttpMethods);
        }
        return methods;
    }
}

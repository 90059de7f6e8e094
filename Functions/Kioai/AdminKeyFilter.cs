using Functions.Settings;

namespace Functions.Kioai;

/// <summary>Admin operations need the admin key in X-Admin-Key; applied once, on the config route group.</summary>
public sealed class AdminKeyFilter(AdminKey adminKey) : IEndpointFilter
{
    public const string Header = "X-Admin-Key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var presented = http.Request.Headers[Header].ToString();
        if (await adminKey.IsValidAsync(presented, http.RequestAborted)) return await next(context);
        return KioaiErrors.Of(StatusCodes.Status401Unauthorized, "unauthorized",
            string.IsNullOrEmpty(presented) ? $"This operation needs the admin key in the {Header} header." : "The admin key is not valid.");
    }
}

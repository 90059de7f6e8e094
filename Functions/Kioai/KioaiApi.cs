namespace Functions.Kioai;

public static class KioaiApi
{
    /// <summary>The kioai surface (specs/kioai-api.openapi.yaml) under /api. Endpoint names are the Functions function names.</summary>
    public static IEndpointRouteBuilder MapKioaiApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/healthz", Healthz.Handle).WithName("Healthz").WithSummary("Health check").WithTags("health");

        var config = api.MapGroup("/config").AddEndpointFilter<AdminKeyFilter>().WithTags("config");
        config.MapGet("/token", GetConfigToken.Handle).WithName("GetConfigToken").WithSummary("Get API token status");
        config.MapPost("/token", SetConfigToken.Handle).WithName("SetConfigToken").WithSummary("Set API token");
        config.MapDelete("/token", DeleteConfigToken.Handle).WithName("DeleteConfigToken").WithSummary("Delete API token");
        config.MapGet("/providers/{provider}/token", GetProviderToken.Handle).WithName("GetProviderToken").WithSummary("Get a provider's token status");
        config.MapPost("/providers/{provider}/token", SetProviderToken.Handle).WithName("SetProviderToken").WithSummary("Set a provider's token");
        config.MapDelete("/providers/{provider}/token", DeleteProviderToken.Handle).WithName("DeleteProviderToken").WithSummary("Delete a provider's token");

        var images = api.MapGroup("/images").WithTags("images");
        images.MapPost("/generate", GenerateImage.Handle).WithName("GenerateImage").WithSummary("Generate image");
        images.MapGet("/history", GetImageHistory.Handle).WithName("GetImageHistory").WithSummary("Get image history");
        images.MapDelete("/{id}", DeleteImage.Handle).WithName("DeleteImage").WithSummary("Delete image");
        return app;
    }
}

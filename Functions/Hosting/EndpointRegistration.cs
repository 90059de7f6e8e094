using Functions.Kiapi;
using Functions.Kioai;

namespace Functions.Hosting;

public static class EndpointRegistration
{
    public static WebApplication MapApplicationEndpoints(this WebApplication app)
    {
        app.MapKioaiApi();
        app.MapKiapiApi();
        return app;
    }
}

using Functions.Jobs;
using Functions.Kiapi;
using Functions.Kioai;

namespace Functions.Hosting;

public static class EndpointRegistration
{
    public static WebApplication MapApplicationEndpoints(this WebApplication app)
    {
        app.MapKioaiApi();
        app.MapKiapiApi();
        // The queue trigger's invocations from the Functions host (Triggers/ProcessJob/function.json).
        app.MapPost("/" + ProcessJob.FunctionName, ProcessJob.Handle).WithName(ProcessJob.FunctionName).ExcludeFromDescription();
        return app;
    }
}

using Functions.Hosting;
using Functions.LocalHost;
using Microsoft.Extensions.Options;

// The Functions app's second home: the same function classes, without the Functions host (see DESIGN.md, "The two hosts").
// Settings (appsettings*.json) are the Functions app's, copied beside this host's binaries.
WebApplication app;
// A setting the app cannot work with stops it here, in one line naming it, not as a failed start with stack traces:
// read while the host is built (storage, the Durable settings, the listen address), then the options checked at start.
try
{
    var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.ConfigureListenAddress();
    builder.AddPlatformCors();
    builder.Logging.UseLocalHostConsole();
    builder.Services.AddImageService(builder.Configuration);
    builder.AddFunctionsApp(FunctionCatalog.Of(typeof(Functions.Generation.GenerateImage).Assembly, HostJson.Load()));
    app = builder.Build();
    app.Services.GetService<IStartupValidator>()?.Validate();
}
catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
{
    Console.Error.WriteLine($"The app cannot start with these settings: {e.Message}");
    return 1;
}
app.UseSurfaceErrors();
app.UsePlatformCors();
app.UseMethodNotAllowedOnlyWhereARouteTakesThePath();
app.MapFunctions();
// The same instances the host starts (singletons), taken now: the host's provider is disposed with the app. One that
// failed stopped the host (which logged why): not a clean stop, and whatever supervises this process should know.
var backgroundServices = app.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToArray();
bool BackgroundServiceFailed() => backgroundServices.Any(s => s.ExecuteTask is { IsFaulted: true });
await using (app)
{
    try
    {
        await app.StartAsync();
    }
    catch (Exception e) when (ListenAddress.IsBindFailure(e)) // "address already in use", say: a setting's fault too
    {
        // Kestrel names the address when it is in use; the socket's own error ("Cannot assign requested address") does not.
        Console.Error.WriteLine($"The app cannot listen{(e is IOException ? "" : $" on {app.Configuration["urls"] ?? "port " + app.Configuration["http_ports"]}")}: {e.Message}");
        // Stopped, not only disposed: the background services already started (one waiting on storage, say) then end as
        // at a stop, where disposing them cancels them as failures (Error and Critical lines with stacks).
        await app.StopAsync();
        return 1;
    }
    catch (OperationCanceledException) when (BackgroundServiceFailed()) // its failure canceled the start
    {
        return 1;
    }
    await app.WaitForShutdownAsync();
}
return BackgroundServiceFailed() ? 1 : 0;

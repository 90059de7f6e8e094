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
app.UseMethodNotAllowedOnlyWhereARouteTakesThePath();
app.MapFunctions();
try
{
    app.Run();
}
catch (IOException e) // Kestrel's bind failure at start ("address already in use"), a setting's fault too
{
    Console.Error.WriteLine($"The app cannot listen: {e.Message}");
    return 1;
}
return 0;

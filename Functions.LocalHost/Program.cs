using Functions.Hosting;
using Functions.LocalHost;

// The Functions app's second home: the same function classes, without the Functions host (see DESIGN.md, "The two hosts").
// Settings (appsettings*.json) are the Functions app's, copied beside this host's binaries.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.ConfigureListenAddress();
builder.Logging.UseLocalHostConsole();
builder.Services.AddImageService(builder.Configuration);
builder.AddFunctionsApp(FunctionCatalog.Of(typeof(Functions.Generation.GenerateImage).Assembly, HostJson.Load()));

var app = builder.Build();
app.UseSurfaceErrors();
app.UseMethodNotAllowedOnlyWhereARouteTakesThePath();
app.MapFunctions();
app.Run();

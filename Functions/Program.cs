using Microsoft.Azure.Functions.Worker.Builder;

// Under the Functions host: the isolated worker with ASP.NET Core integration. Functions.LocalHost runs the same functions without it.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseMiddleware<SurfaceErrorsMiddleware>();
builder.Services.AddImageService(builder.Configuration);
builder.Build().Run();

using Functions.Hosting;

var builder = WebApplication.CreateSlimBuilder(args);
builder.ConfigureListenAddress();
builder.AddApplicationServices();

var app = builder.Build();
app.UseSurfaceErrors();
app.MapApplicationEndpoints();
app.Run();

/// <summary>The app's entry point; public so that tests and benchmarks can host it.</summary>
public partial class Program;

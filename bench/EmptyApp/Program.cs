var app = WebApplication.CreateSlimBuilder(args).Build();
app.MapGet("/api/healthz", () => Results.Text("{\"status\":\"ok\"}", "application/json"));
app.Run();

using Functions.History;
using Functions.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Bench;

/// <summary>The app in its local host, hosted in this process, where its services (the request counter, the history) can be read.</summary>
static class InProcess
{
    sealed class Factory(string storage, IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Functions.LocalHost.FunctionCatalog>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.UseContentRoot(AppContext.BaseDirectory); // the Functions app's settings files, copied beside the local host
            builder.UseSetting("AzureWebJobsStorage", storage);
            builder.UseSetting("Auth:AdminKey", "bench-admin-key-0000");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            // The sweep's lock renews a lease every 5 s through the counted clients: requests of no generation.
            builder.UseSetting("AzureWebJobs.SweepOrphanFiles.Disabled", "true");
            foreach (var (key, value) in settings ?? new Dictionary<string, string>()) builder.UseSetting(key, value);
        }
    }

    /// <summary>
    /// The app's own count of storage requests (every client's pipeline, retries included) per inline generation of
    /// <paramref name="body"/>, over sequential generations after a warm-up. The Durable backend's own storage clients
    /// are not counted: an inline generation makes no orchestration.
    /// </summary>
    public static async Task<double> StorageRequestsPerGenerationAsync(string storage, int generations, Func<int, HttpContent> body,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        await using var factory = new Factory(storage, settings);
        using var client = factory.CreateClient();
        var counter = factory.Services.GetRequiredService<StorageRequestCounter>();
        for (var i = 0; i < 5; i++) (await client.PostAsync("/api/images/generate", body(i))).EnsureSuccessStatusCode();

        var before = counter.Count;
        for (var i = 0; i < generations; i++) (await client.PostAsync("/api/images/generate", body(i))).EnsureSuccessStatusCode();
        return (counter.Count - before) / (double)generations;
    }

    /// <summary>Adds history rows until there are <paramref name="total"/>; the rows point at one shared file.</summary>
    public static async Task SeedHistoryAsync(string storage, int total)
    {
        await using var factory = new Factory(storage);
        using var client = factory.CreateClient();
        var first = await (await client.PostAsync("/api/images/generate", Load.Generate(0))).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var fileId = new Uri(first.GetProperty("imageUrl").GetString()!).Segments[^2].TrimEnd('/');
        var history = factory.Services.GetRequiredService<ImageHistory>();
        var existing = (await history.ListPublicAsync(1, 0, default)).Total;
        for (var i = existing; i < total; i++)
            await history.AddAsync(new ImageEntry(0, fileId, $"seeded {i}", "realistic", "1:1", "grok", false, null, DateTimeOffset.UtcNow,
                $"job_{i:x20}"), default);
    }
}

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Functions.Tests.Infrastructure;

namespace Functions.Bench;

/// <summary>The async contract under load: how fast jobs are accepted, and how fast they are done, by one or two processes.</summary>
static class JobsBench
{
    public sealed record Figures(int Processes, Load.Result Accept, double JobsPerSecond);

    /// <summary>
    /// On a fresh Azurite with <paramref name="processes"/> app processes: <paramref name="count"/> submits with
    /// Prefer: respond-async from 16 loops spread over the processes (accept rate and latency), then the time until
    /// the history holds every image (end-to-end jobs per second, offline renderer, 1K).
    /// </summary>
    public static async Task<Figures> RunAsync(string appDll, int processes, int count)
    {
        await using var azurite = await Azurite.StartAsync();
        var apps = await Task.WhenAll(Enumerable.Range(0, processes).Select(_ => AppProcess.StartAsync(appDll, azurite.ConnectionString)));
        try
        {
            var clients = apps.Select(a => { var c = a.CreateClient(); c.DefaultRequestHeaders.Add("Prefer", "respond-async"); return c; }).ToArray();
            await WarmUpAsync(clients);
            var before = await TotalImagesAsync(clients[0]);

            var clock = Stopwatch.StartNew();
            var accept = await Load.RunAsync(clients, 16, count, "/api/images/generate", Load.Generate);
            while (await TotalImagesAsync(clients[0]) < before + count)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(5)) throw new TimeoutException("The jobs did not finish within 5 minutes.");
                await Task.Delay(20);
            }
            return new Figures(processes, accept, count / clock.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var app in apps) await app.DisposeAsync();
        }
    }

    // A few jobs through every process first, so that neither JIT nor first connections count.
    static async Task WarmUpAsync(HttpClient[] clients)
    {
        var before = await TotalImagesAsync(clients[0]);
        await Load.RunAsync(clients, 4, 8 * clients.Length, "/api/images/generate", Load.Generate);
        while (await TotalImagesAsync(clients[0]) < before + 8 * clients.Length) await Task.Delay(20);
    }

    static async Task<long> TotalImagesAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=1")).GetProperty("total").GetInt64();
}

using Functions.Tests.Infrastructure;

namespace Functions.Bench;

/// <summary>
/// Figures for bench/RESULTS.md, measured on the machine this runs on. bench/run.sh publishes the apps and calls
/// <c>Functions.Bench &lt;Functions.dll&gt; &lt;EmptyApp.dll&gt;</c> or <c>Functions.Bench gateway &lt;Functions.dll&gt; &lt;FakeOpenAi.dll&gt;</c>.
/// </summary>
static class BenchMain
{
    static async Task<int> Main(string[] args)
    {
        if (args is ["gateway", var gatewayApp, var upstream, ..]) return await GatewayAsync(gatewayApp, upstream, args.ElementAtOrDefault(3) == "smoke");
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: Functions.Bench <Functions.dll> <EmptyApp.dll> [cold-start|jobs]\n" +
                                    "       Functions.Bench gateway <Functions.dll> <FakeOpenAi.dll> [smoke]   (bench/run.sh publishes them)");
            return 2;
        }
        var (appDll, emptyDll) = (Path.GetFullPath(args[0]), Path.GetFullPath(args[1]));
        var report = new Report();
        Action<string> Line = report.Line;

        var only = args.ElementAtOrDefault(2);
        await using var azurite = await Azurite.StartAsync();
        report.Machine();
        if (only == "jobs") return await JobsAsync(appDll, Line, report);

        // Cold start: process start to the first 200 from /api/healthz, median of 15 starts each, alternating.
        var starts = await ColdStart.MediansAsync(
            [new(emptyDll), new(appDll), new(appDll, UnderFunctionsHost: true)], azurite.ConnectionString, 15);
        var (emptyStart, appStart, hostedStart) = (starts[0], starts[1], starts[2]);
        Line("| cold start (median of 15, alternating), target at most 1.5x the empty app | ms | ratio |");
        Line("|---|---|---|");
        Line($"| empty ASP.NET Core app | {emptyStart:F0} | 1.00 |");
        Line($"| this app, standalone (queue listener on) | {appStart:F0} | {appStart / emptyStart:F2} |");
        Line($"| this app, as the Functions host starts it (FUNCTIONS_CUSTOMHANDLER_PORT, listener off) | {hostedStart:F0} | {hostedStart / emptyStart:F2} |");
        Line("");
        if (only == "cold-start") return 0; // a quick check while working on startup

        await using (var app = await AppProcess.StartAsync(appDll, azurite.ConnectionString))
        {
            using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
            await Load.RunAsync(client, 16, 64, "/api/images/generate", Load.Generate); // warm-up
            Line("| sync generate, offline renderer, 1K (1024x1024) | requests | p50 ms | p99 ms | req/s |");
            Line("|---|---|---|---|---|");
            foreach (var (concurrency, count) in new[] { (1, 200), (16, 480) })
            {
                var result = await Load.RunAsync(client, concurrency, count, "/api/images/generate", Load.Generate);
                Line($"| concurrency {concurrency} | {count} | {result.P50:F1} | {result.P99:F1} | {result.Throughput:F1} |");
            }
            Line("");
        }

        // Storage requests per generation: the in-process app's own counting policy, over sequential generations.
        var perGeneration = await InProcess.StorageRequestsPerGenerationAsync(azurite.ConnectionString, 50);
        Line($"Storage requests per sync generation (mean of 50 sequential, listener polls included; target at most 8): {perGeneration:F2}");
        Line("");

        // History first page with 100 and with 10,000 images, in a store of its own.
        await using var historyStore = await Azurite.StartAsync();
        await using var historyApp = await AppProcess.StartAsync(appDll, historyStore.ConnectionString);
        using var historyClient = new HttpClient { BaseAddress = historyApp.BaseAddress };
        var pages = new List<(int Images, double P50, double P99)>();
        foreach (var total in new[] { 100, 10_000 })
        {
            await InProcess.SeedHistoryAsync(historyStore.ConnectionString, total);
            // Long enough for tiered compilation to finish, so the first (smaller) store is not measured on colder code.
            await Load.RunAsync(historyClient, 1, 1000, "/api/images/history?limit=20", null);
            var result = await Load.RunAsync(historyClient, 1, 300, "/api/images/history?limit=20", null);
            pages.Add((total, result.P50, result.P99));
        }
        Line("| first history page (limit 20), concurrency 1, 300 requests after 1,000 warm-up | p50 ms | p99 ms |");
        Line("|---|---|---|");
        foreach (var page in pages) Line($"| {page.Images:N0} images | {page.P50:F2} | {page.P99:F2} |");
        Line($"| ratio 10,000 / 100 at p50 (target at most 1.5) | {pages[1].P50 / pages[0].P50:F2} | |");
        Line("");
        return await JobsAsync(appDll, Line, report);
    }

    /// <summary>The Portkey comparison (<see cref="GatewayBench"/>); "smoke" only checks that it runs, its figures are not results.</summary>
    static async Task<int> GatewayAsync(string appDll, string upstreamDll, bool smoke)
    {
        var report = new Report();
        report.Machine(smoke ? "; SMOKE RUN: too few requests for figures" : "");
        await GatewayBench.RunAsync(Path.GetFullPath(appDll), Path.GetFullPath(upstreamDll), smoke ? GatewayBench.Smoke : GatewayBench.Full, report.Line);
        return await report.WriteAsync();
    }

    static async Task<int> JobsAsync(string appDll, Action<string> Line, Report report)
    {
        // Async submits and end-to-end jobs, each configuration on an Azurite of its own.
        Line("| async jobs, offline renderer, 1K, 400 submits from 16 loops | accepted/s | submit p50 ms | submit p99 ms | done end to end, jobs/s |");
        Line("|---|---|---|---|---|");
        foreach (var processes in new[] { 1, 2 })
        {
            var figures = await JobsBench.RunAsync(appDll, processes, 400);
            Line($"| {processes} app process{(processes > 1 ? "es" : "")} | {figures.Accept.Throughput:F1} | {figures.Accept.P50:F1} | {figures.Accept.P99:F1} | {figures.JobsPerSecond:F1} |");
        }

        return await report.WriteAsync();
    }
}

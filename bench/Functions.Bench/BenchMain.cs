using Functions.Tests.Fakes;

namespace Functions.Bench;

/// <summary>
/// Figures for bench/RESULTS.md, measured on the machine this runs on. bench/run.sh publishes the apps and calls
/// <c>Functions.Bench &lt;Functions.LocalHost.dll&gt; &lt;EmptyApp.dll&gt; &lt;FakeOpenAi.dll&gt; [part]</c> or
/// <c>Functions.Bench gateway &lt;Functions.LocalHost.dll&gt; &lt;FakeOpenAi.dll&gt; [smoke]</c>.
/// </summary>
static class BenchMain
{
    static async Task<int> Main(string[] args)
    {
        if (args is ["gateway", var gatewayApp, var upstream, ..]) return await GatewayAsync(gatewayApp, upstream, args.ElementAtOrDefault(3) == "smoke");
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: Functions.Bench <Functions.LocalHost.dll> <EmptyApp.dll> <FakeOpenAi.dll> [cold-start|inline|history|jobs]\n" +
                                    "       Functions.Bench gateway <Functions.LocalHost.dll> <FakeOpenAi.dll> [smoke]   (bench/run.sh publishes them)");
            return 2;
        }
        var (appDll, emptyDll, upstreamDll) = (Path.GetFullPath(args[0]), Path.GetFullPath(args[1]), Path.GetFullPath(args[2]));
        var only = args.ElementAtOrDefault(3);
        bool Runs(string part) => only is null || only == part;
        var report = new Report();
        report.Machine();

        await using (var azurite = await Azurite.StartAsync())
        {
            if (Runs("cold-start")) await ColdStartAsync(appDll, emptyDll, azurite.ConnectionString, report.Line);
            if (Runs("inline")) await InlineAsync(appDll, upstreamDll, azurite.ConnectionString, report.Line);
        }
        if (Runs("history")) await HistoryAsync(appDll, report.Line);
        if (Runs("jobs")) await JobsAsync(appDll, report.Line);
        return await report.WriteAsync();
    }

    /// <summary>Process start to the first 200 from /api/healthz, median of 15 starts each, alternating.</summary>
    static async Task ColdStartAsync(string appDll, string emptyDll, string storage, Action<string> Line)
    {
        var starts = await ColdStart.MediansAsync([emptyDll, appDll], storage, 15);
        Line("| cold start (median of 15, alternating), target at most 1.5x the empty app | ms | ratio |");
        Line("|---|---|---|");
        Line($"| empty ASP.NET Core app | {starts[0]:F0} | 1.00 |");
        Line($"| the local host (Functions.LocalHost, Durable worker and sidecar included) | {starts[1]:F0} | {starts[1] / starts[0]:F2} |");
        Line("");
    }

    /// <summary>Inline generations (offline renderer, gpt-image-1 on the fake upstream), the local host's memory, and storage requests per generation.</summary>
    static async Task InlineAsync(string appDll, string upstreamDll, string storage, Action<string> Line)
    {
        await using var upstream = await GatewayBench.StartUpstreamAsync(upstreamDll);
        var openAi = GatewayBench.OpenAiSettings(upstream);
        var bodies = new[] { ("offline renderer, 1K (1024x1024)", Load.Generate), ("gpt-image-1, zero-latency fake OpenAI upstream", Load.GenerateWith("gpt-image-1")) };
        await using (var app = await ServerProcess.StartLocalHostAsync(appDll, storage, openAi))
        {
            using var client = app.CreateClient();
            await Task.Delay(TimeSpan.FromSeconds(2));
            var started = app.ResidentMegabytes;
            (await client.PostAsync("/api/images/generate", Load.Generate(0))).EnsureSuccessStatusCode();
            await Task.Delay(TimeSpan.FromSeconds(2));
            var idle = app.ResidentMegabytes;
            Line("| inline generate | requests | p50 ms | p99 ms | req/s |");
            Line("|---|---|---|---|---|");
            var afterSixteen = new List<(string Name, double Megabytes)>();
            foreach (var (name, body) in bodies)
            {
                await Load.RunAsync(client, 16, 64, "/api/images/generate", body); // warm-up
                foreach (var (concurrency, count) in new[] { (1, 200), (16, 480) })
                {
                    var result = await Load.RunAsync(client, concurrency, count, "/api/images/generate", body);
                    Line($"| {name}, concurrency {concurrency} | {count} | {result.P50:F1} | {result.P99:F1} | {result.Throughput:F1} |");
                }
                afterSixteen.Add((name, app.ResidentMegabytes));
            }
            Line("");
            Line("| local host RSS (VmRSS, whole process) | MB |");
            Line("|---|---|");
            Line($"| idle: after start (one /api/healthz) and 2 s | {started:F0} |");
            Line($"| idle: then one generation (offline renderer) and 2 s | {idle:F0} |");
            foreach (var (name, megabytes) in afterSixteen) Line($"| then after the {name} runs above (concurrency 16 last) | {megabytes:F0} |");
            Line("");
        }

        // The in-process local host's own counting policy, over sequential generations.
        foreach (var (name, body) in bodies)
        {
            var perGeneration = await InProcess.StorageRequestsPerGenerationAsync(storage, 50, body, openAi);
            Line($"Storage requests per inline generation, {name} (mean of 50 sequential; target at most 3): {perGeneration:F2}");
        }
        Line("");
    }

    /// <summary>History first page with 100 and with 10,000 images, in a store of its own.</summary>
    static async Task HistoryAsync(string appDll, Action<string> Line)
    {
        await using var historyStore = await Azurite.StartAsync();
        await using var historyApp = await ServerProcess.StartLocalHostAsync(appDll, historyStore.ConnectionString);
        using var historyClient = historyApp.CreateClient();
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
    }

    /// <summary>Orchestrated jobs, each configuration on an Azurite of its own: the offline renderer, then a fake geminigen.</summary>
    static async Task JobsAsync(string appDll, Action<string> Line)
    {
        const int jobs = 240;
        await using var geminigen = new FakeGeminigen();
        var appTiming = JobsBench.Geminigen(geminigen, "fake geminigen, the app's check timing (first check after Upstream:PollMinSeconds, 2 s)");
        var runs = new (JobsBench.Upstream Upstream, int Processes)[]
        {
            (JobsBench.Offline, 1), (JobsBench.Offline, 2),
            (appTiming, 1), (appTiming, 2),
            (JobsBench.Geminigen(geminigen, "fake geminigen, first check at once (Upstream:PollMinSeconds=0)",
                new Dictionary<string, string> { ["Upstream:PollMinSeconds"] = "0" }), 1),
        };
        Line($"| orchestrated generate (Prefer: respond-async), {jobs} jobs from 16 loops | processes | submit p50 ms | submit p99 ms " +
             "| submit-to-succeeded p50 ms | submit-to-succeeded p99 ms | jobs/s |");
        Line("|---|---|---|---|---|---|---|");
        foreach (var (upstream, processes) in runs)
        {
            var figures = await JobsBench.RunAsync(appDll, upstream, processes, jobs);
            Line($"| {upstream.Name} | {processes} | {figures.Submit.P50:F1} | {figures.Submit.P99:F1} " +
                 $"| {figures.SubmitToSucceeded.P50:F1} | {figures.SubmitToSucceeded.P99:F1} | {figures.JobsPerSecond:F1} |");
        }
        Line("");
    }

    /// <summary>The Portkey comparison (<see cref="GatewayBench"/>); "smoke" only checks that it runs, its figures are not results.</summary>
    static async Task<int> GatewayAsync(string appDll, string upstreamDll, bool smoke)
    {
        var report = new Report();
        report.Machine(smoke ? "; SMOKE RUN: too few requests for figures" : "");
        await GatewayBench.RunAsync(Path.GetFullPath(appDll), Path.GetFullPath(upstreamDll), smoke ? GatewayBench.Smoke : GatewayBench.Full, report.Line);
        return await report.WriteAsync();
    }
}

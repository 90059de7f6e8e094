using System.Runtime.InteropServices;

namespace Functions.Bench;

/// <summary>
/// The app beside the Portkey AI gateway (npm @portkey-ai/gateway, a gateway users pick instead; it stores nothing),
/// both in front of one zero-latency fake OpenAI images upstream on loopback, with the upstream measured direct as the
/// floor: p50/p99 at concurrency 1 and 16, throughput at 16, and each path's p50 overhead over the upstream.
/// </summary>
static class GatewayBench
{
    /// <summary>Requests per path: warm-up, at concurrency 1 and at 16, each split over rounds that alternate the paths.</summary>
    public sealed record Plan(int WarmUp, int AtOne, int AtSixteen, int Rounds, TimeSpan Bound);

    public static readonly Plan Full = new(WarmUp: 200, AtOne: 300, AtSixteen: 960, Rounds: 3, Bound: TimeSpan.FromMinutes(15));
    public static readonly Plan Smoke = new(WarmUp: 16, AtOne: 20, AtSixteen: 64, Rounds: 1, Bound: TimeSpan.FromMinutes(5));

    public const string UpstreamToken = "sk-bench-fake-upstream"; // bench/FakeOpenAi's key: Portkey and the app must forward it
    const string Model = "gpt-image-1";

    sealed record Route(string Name, HttpClient Client, string Path, Func<int, HttpContent> Body, string Marker);

    public static async Task RunAsync(string appDll, string upstreamDll, Plan plan, Action<string> line)
    {
        if (!File.Exists(PortkeyScript))
            throw new InvalidOperationException($"The Portkey gateway is not installed ({PortkeyScript} is missing): run 'npm ci' in {RepositoryRoot.Path}.");
        var owned = new List<OwnedProcess>();
        T Own<T>(T process) where T : OwnedProcess
        {
            lock (owned) owned.Add(process);
            return process;
        }
        // Ctrl-C or a kill of the bench must not leave the servers it started running.
        var signals = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }
            .Select(signal => PosixSignalRegistration.Create(signal, _ => { lock (owned) owned.ForEach(p => p.Kill()); })).ToList();
        try
        {
            var azurite = Own(await Azurite.StartAsync());
            var upstream = Own(await StartUpstreamAsync(upstreamDll));
            var portkey = Own(await ServerProcess.StartAsync("the Portkey gateway", "node",
                port => ["--import", "./bench/portkey-loopback.mjs", PortkeyScript, $"--port={port}", "--headless"], "/"));
            var app = Own(await ServerProcess.StartLocalHostAsync(appDll, azurite.ConnectionString, OpenAiSettings(upstream)));
            await MeasureAsync(upstream, portkey, app, plan, line).WaitAsync(plan.Bound);
        }
        finally
        {
            signals.ForEach(s => s.Dispose());
            foreach (var process in owned) await process.DisposeAsync();
        }
    }

    /// <summary>The app's OpenAI-compatible provider on the fake, with the fake's token from settings, so gpt-image-1 is generated there.</summary>
    public static Dictionary<string, string> OpenAiSettings(ServerProcess upstream) => new()
    {
        ["Providers:OpenAI:BaseUrl"] = new Uri(upstream.BaseAddress, "/v1").ToString(),
        ["Providers:OpenAI:Token"] = UpstreamToken,
    };

    /// <summary>The fake upstream, published by bench/run.sh, on a free loopback port.</summary>
    public static Task<ServerProcess> StartUpstreamAsync(string upstreamDll) =>
        ServerProcess.StartAsync("the fake upstream", "dotnet", port => [upstreamDll, "--urls", $"http://127.0.0.1:{port}"], "/answered");

    static string PortkeyScript => Path.Combine(RepositoryRoot.Path, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");

    static string PortkeyVersion()
    {
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(PortkeyScript)!, "..", "package.json")));
        return package.RootElement.GetProperty("version").GetString()!;
    }

    static async Task MeasureAsync(ServerProcess upstream, ServerProcess portkey, ServerProcess app, Plan plan, Action<string> line)
    {
        using var counter = Client(upstream.BaseAddress);
        var upstreamRequest = (int i) => JsonContent.Create(new { model = Model, prompt = $"benchmark image {i}", size = "1024x1024" });
        Route[] routes =
        [
            new("fake upstream, direct", Client(upstream.BaseAddress, ("Authorization", $"Bearer {UpstreamToken}")),
                "/v1/images/generations", upstreamRequest, "b64_json"),
            new($"Portkey gateway {PortkeyVersion()}", Client(portkey.BaseAddress, ("Authorization", $"Bearer {UpstreamToken}"),
                    ("x-portkey-provider", "openai"), ("x-portkey-custom-host", new Uri(upstream.BaseAddress, "/v1").ToString())),
                "/v1/images/generations", upstreamRequest, "b64_json"),
            new("this app, sync generate (stores the image)", Client(app.BaseAddress), "/api/images/generate",
                Load.GenerateWith(Model), "\"imageUrl\""),
        ];
        try
        {
            foreach (var route in routes)
            {
                await CheckAsync(route, counter);
                await SampleAsync(route, counter, 8, plan.WarmUp);
            }
            var samples = routes.ToDictionary(r => r, _ => new Dictionary<int, List<Load.Sample>> { [1] = [], [16] = [] });
            foreach (var (concurrency, total) in new[] { (1, plan.AtOne), (16, plan.AtSixteen) })
                for (var round = 0; round < plan.Rounds; round++)
                    foreach (var route in routes.Skip(round % routes.Length).Concat(routes.Take(round % routes.Length)))
                        samples[route][concurrency].Add(await SampleAsync(route, counter, concurrency, total / plan.Rounds));
            Report(routes.Select(r => (r.Name, Load.Summarize(samples[r][1]), Load.Summarize(samples[r][16]))).ToList(), plan, line);
        }
        finally
        {
            foreach (var route in routes) route.Client.Dispose();
        }
    }

    /// <summary>One request: it must succeed, carry the image, and reach the upstream exactly once (no offline fallback, no retry).</summary>
    static async Task CheckAsync(Route route, HttpClient counter)
    {
        var before = await AnsweredAsync(counter);
        using var response = await route.Client.PostAsync(route.Path, route.Body(-1));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || !body.Contains(route.Marker, StringComparison.Ordinal))
            throw new InvalidOperationException($"{route.Name} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 500)]}");
        if (await AnsweredAsync(counter) != before + 1) throw new InvalidOperationException($"{route.Name} did not reach the fake upstream exactly once.");
    }

    static async Task<Load.Sample> SampleAsync(Route route, HttpClient counter, int concurrency, int count)
    {
        var before = await AnsweredAsync(counter);
        var sample = await Load.SampleAsync([route.Client], concurrency, count, route.Path, route.Body);
        var reached = await AnsweredAsync(counter) - before;
        if (reached != count) throw new InvalidOperationException($"{route.Name}: {count} requests, {reached} reached the upstream.");
        return sample;
    }

    static async Task<long> AnsweredAsync(HttpClient counter) => long.Parse(await counter.GetStringAsync("/answered"));

    static HttpClient Client(Uri baseAddress, params (string Name, string Value)[] headers)
    {
        var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        foreach (var (name, value) in headers) client.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        return client;
    }

    static void Report(List<(string Name, Load.Result One, Load.Result Sixteen)> rows, Plan plan, Action<string> line)
    {
        var (direct, portkey, app) = (rows[0], rows[1], rows[2]);
        static double Overhead(Load.Result path, Load.Result floor) => path.P50 - floor.P50;
        line($"| {Model} on a zero-latency fake OpenAI upstream; {plan.AtOne} requests at concurrency 1, {plan.AtSixteen} at 16, " +
             $"per path, {plan.Rounds} alternating round(s) after {plan.WarmUp} warm-up | c=1 p50 ms | c=1 p99 ms | c=16 p50 ms | c=16 p99 ms " +
             "| c=16 req/s | p50 overhead over the upstream, c=1 ms | the same, c=16 ms |");
        line("|---|---|---|---|---|---|---|---|");
        foreach (var (name, one, sixteen) in rows)
            line($"| {name} | {one.P50:F2} | {one.P99:F2} | {sixteen.P50:F2} | {sixteen.P99:F2} | {sixteen.Throughput:F1} " +
                 $"| {Overhead(one, direct.One):F2} | {Overhead(sixteen, direct.Sixteen):F2} |");
        line($"| app / Portkey (targets: overhead at most 2, throughput at least 0.5) | | | | | " +
             $"{app.Sixteen.Throughput / portkey.Sixteen.Throughput:F2} | {Overhead(app.One, direct.One) / Overhead(portkey.One, direct.One):F2} " +
             $"| {Overhead(app.Sixteen, direct.Sixteen) / Overhead(portkey.Sixteen, direct.Sixteen):F2} |");
        line("");
    }
}

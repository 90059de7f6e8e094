using System.Diagnostics;
using Functions.Tests.Fakes;

namespace Functions.Bench;

/// <summary>
/// Orchestrated generation under load: generate with <c>Prefer: respond-async</c> makes a Durable orchestration (job),
/// on the offline renderer or on a fake geminigen (an asynchronous upstream: submit, then checks); 16 loops each submit
/// one, poll its Location until it has succeeded, then submit the next.
/// </summary>
static class JobsBench
{
    public sealed record Figures(int Processes, Load.Result Submit, Load.Result SubmitToSucceeded, double JobsPerSecond);

    /// <summary>Where the jobs generate: the generate body and the local host's settings for it.</summary>
    public sealed record Upstream(string Name, Func<int, HttpContent> Body, IReadOnlyDictionary<string, string> Settings);

    public static readonly Upstream Offline = new("offline renderer, 1K", Load.Generate, new Dictionary<string, string>());

    /// <summary>imagen-4 on <paramref name="fake"/>, whose tasks are done at the first check; the app's check timing unless overridden.</summary>
    public static Upstream Geminigen(FakeGeminigen fake, string name, IReadOnlyDictionary<string, string>? timing = null)
    {
        fake.PollsToFinish = 1;
        var settings = new Dictionary<string, string>(timing ?? new Dictionary<string, string>())
        {
            ["Providers:Geminigen:BaseUrl"] = fake.BaseUrl + "/uapi/v1",
            ["Providers:Geminigen:WebBaseUrl"] = fake.BaseUrl + "/api",
            ["Providers:Geminigen:Token"] = FakeGeminigen.ApiKey,
            ["Upstream:AllowPrivateAddresses"] = "true", // the fake's image URLs are on loopback
            ["Generation:OfflineRenderer"] = "false",
        };
        return new Upstream(name, Load.GenerateWith("imagen-4"), settings);
    }

    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// On a fresh Azurite with <paramref name="processes"/> local-host processes: <paramref name="count"/> jobs from 16
    /// loops spread round-robin over the processes. Submit latency (until the 202), submit-to-succeeded latency, and
    /// jobs per second over the whole run.
    /// </summary>
    public static async Task<Figures> RunAsync(string appDll, Upstream upstream, int processes, int count)
    {
        await using var azurite = await Azurite.StartAsync();
        var apps = await Task.WhenAll(Enumerable.Range(0, processes)
            .Select(_ => ServerProcess.StartLocalHostAsync(appDll, azurite.ConnectionString, upstream.Settings)));
        var clients = apps.Select(a => { var c = a.CreateClient(); c.DefaultRequestHeaders.Add("Prefer", "respond-async"); return c; }).ToArray();
        try
        {
            await SampleAsync(clients, upstream.Body, 4, 8 * processes); // neither JIT nor first connections nor partition leases count
            var clock = Stopwatch.StartNew();
            var (submit, done) = await SampleAsync(clients, upstream.Body, 16, count).WaitAsync(TimeSpan.FromMinutes(5));
            var seconds = clock.Elapsed.TotalSeconds;
            return new Figures(processes, Load.Summarize(new Load.Sample(submit, seconds)), Load.Summarize(new Load.Sample(done, seconds)), count / seconds);
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
            foreach (var app in apps) await app.DisposeAsync();
        }
    }

    static async Task<(double[] Submit, double[] Done)> SampleAsync(HttpClient[] clients, Func<int, HttpContent> body, int concurrency, int count)
    {
        var (submit, done) = (new double[count], new double[count]);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var client = clients[i % clients.Length];
                var clock = Stopwatch.StartNew();
                using var accepted = await client.PostAsync("/api/images/generate", body(i));
                submit[i] = clock.Elapsed.TotalMilliseconds;
                if (accepted.StatusCode != HttpStatusCode.Accepted || accepted.Headers.Location is not { } location)
                    throw new InvalidOperationException($"A submit answered {(int)accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync()}");
                while (await StatusAsync(client, location) is var status && status != "succeeded")
                {
                    if (status is "failed" or "canceled") throw new InvalidOperationException($"Job {location} ended {status}.");
                    await Task.Delay(PollInterval);
                }
                done[i] = clock.Elapsed.TotalMilliseconds;
            }
        }));
        return (submit, done);
    }

    static async Task<string?> StatusAsync(HttpClient client, Uri location) =>
        (await client.GetFromJsonAsync<JsonElement>(location)).GetProperty("status").GetString();
}

using System.Diagnostics;

namespace Functions.Bench;

static class Load
{
    public sealed record Result(double P50, double P99, double Throughput);

    /// <summary>The raw figures of one run: each request's latency (ms) and the run's wall-clock seconds.</summary>
    public sealed record Sample(double[] Latencies, double Seconds);

    /// <summary>A generate body for the default model (geminigen's, without a token: the offline renderer in Development).</summary>
    public static readonly Func<int, HttpContent> Generate = i => JsonContent.Create(new { prompt = $"benchmark image {i}", style = "digital_art" });

    /// <summary>A generate body for <paramref name="model"/>, e.g. gpt-image-1 on the fake OpenAI upstream.</summary>
    public static Func<int, HttpContent> GenerateWith(string model) =>
        i => JsonContent.Create(new { prompt = $"benchmark image {i}", model, aspectRatio = "1:1" });

    /// <summary>Sends <paramref name="count"/> requests from <paramref name="concurrency"/> loops; every answer must be a success.</summary>
    public static Task<Result> RunAsync(HttpClient client, int concurrency, int count, string path, Func<int, HttpContent>? body) =>
        RunAsync([client], concurrency, count, path, body);

    /// <summary>The same, the i-th request going to the (i mod n)-th client: load spread over several instances.</summary>
    public static async Task<Result> RunAsync(HttpClient[] clients, int concurrency, int count, string path, Func<int, HttpContent>? body) =>
        Summarize(await SampleAsync(clients, concurrency, count, path, body));

    public static async Task<Sample> SampleAsync(HttpClient[] clients, int concurrency, int count, string path, Func<int, HttpContent>? body)
    {
        var latencies = new double[count];
        var next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var clock = Stopwatch.StartNew();
                var client = clients[i % clients.Length];
                using var response = body is null ? await client.GetAsync(path) : await client.PostAsync(path, body(i));
                await response.Content.ReadAsByteArrayAsync();
                latencies[i] = clock.Elapsed.TotalMilliseconds;
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}");
            }
        }));
        return new Sample(latencies, total.Elapsed.TotalSeconds);
    }

    /// <summary>Percentiles over every request of the samples; throughput over their summed wall-clock time.</summary>
    public static Result Summarize(params IReadOnlyCollection<Sample> samples)
    {
        var sorted = samples.SelectMany(s => s.Latencies).Order().ToArray();
        return new Result(Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted.Length / samples.Sum(s => s.Seconds));
    }

    static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

using System.Diagnostics;
using Functions.Tests.Infrastructure;

namespace Functions.Bench;

static class ColdStart
{
    /// <summary>
    /// Median milliseconds from process start to the first 200 from /api/healthz, for two apps started in turn
    /// (A, B, A, B, ...) so that drift in the machine's load touches both alike.
    /// </summary>
    public static async Task<(double First, double Second)> MediansAsync(string firstDll, string secondDll, string storage, int runs)
    {
        var (first, second) = (new List<double>(), new List<double>());
        for (var run = 0; run < runs; run++)
        {
            first.Add(await OnceAsync(firstDll, storage));
            second.Add(await OnceAsync(secondDll, storage));
        }
        return (Median(first), Median(second));
    }

    static async Task<double> OnceAsync(string dll, string storage)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        using var process = AppProcess.Start(dll, storage, port);
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                try
                {
                    if ((await client.GetAsync($"http://127.0.0.1:{port}/api/healthz")).IsSuccessStatusCode) return clock.Elapsed.TotalMilliseconds;
                }
                catch (HttpRequestException) { await Task.Delay(2); }
            }
            throw new InvalidOperationException($"{dll} did not answer /api/healthz within 30 s.");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}

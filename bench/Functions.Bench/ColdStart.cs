using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Functions.Bench;

static class ColdStart
{
    static readonly byte[] HealthzRequest = Encoding.ASCII.GetBytes("GET /api/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

    /// <summary>
    /// Median milliseconds from process start to the first 200 from /api/healthz for each app, started in turn
    /// (A, B, C, A, B, C, ...) so that drift in the machine's load touches all alike.
    /// </summary>
    public static async Task<double[]> MediansAsync(IReadOnlyList<string> candidates, string storage, int runs)
    {
        var times = candidates.Select(_ => new List<double>()).ToArray();
        for (var run = 0; run < runs; run++)
            for (var i = 0; i < candidates.Count; i++)
                times[i].Add(await OnceAsync(candidates[i], storage));
        return times.Select(Median).ToArray();
    }

    static async Task<double> OnceAsync(string dll, string storage)
    {
        var port = FreePort.Next();
        var clock = Stopwatch.StartNew();
        using var process = AppProcess.Start(dll, storage, port);
        try
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                if (await HealthzStatusAsync(port) == 200) return clock.Elapsed.TotalMilliseconds;
                await Task.Delay(1);
            }
            throw new InvalidOperationException($"{dll} did not answer /api/healthz within 30 s.");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    /// <summary>
    /// One raw HTTP/1.1 request, or 0 while nothing listens. A refused connect costs a system call, where HttpClient
    /// would throw and catch an exception per attempt and take CPU from the app being measured on a small machine.
    /// </summary>
    static async Task<int> HealthzStatusAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException)
        {
            return 0;
        }
        // A server that accepts but never answers must not hang the benchmark.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.SendAsync(HealthzRequest, timeout.Token);
        var response = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, timeout.Token)) > 0) response.Write(buffer, 0, read);
        // "HTTP/1.1 200 OK": the status code is the second word of the status line.
        var statusLine = Encoding.ASCII.GetString(response.GetBuffer(), 0, (int)Math.Min(response.Length, 32));
        return statusLine.Split(' ') is [_, var code, ..] && int.TryParse(code, out var status) ? status : 0;
    }

    static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}

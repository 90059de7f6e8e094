using System.Collections.Concurrent;
using System.Diagnostics;

namespace Functions.Bench;

/// <summary>
/// A server the bench starts on a loopback port (the local host, the fake upstream, the Portkey gateway), ready once a
/// GET of its readiness path answers 200. Killed, with its process tree, when disposed.
/// </summary>
sealed class ServerProcess : OwnedProcess
{
    public Uri BaseAddress { get; }

    ServerProcess(Process process, Uri baseAddress) : base(process) => BaseAddress = baseAddress;

    /// <summary>Resident set size (VmRSS) now, in MB: the whole process, its Durable worker and sidecar included.</summary>
    public double ResidentMegabytes
    {
        get
        {
            Process.Refresh();
            return Process.WorkingSet64 / (1024.0 * 1024.0);
        }
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>Starts <paramref name="fileName"/> with the arguments <paramref name="arguments"/> makes of a free port.</summary>
    public static Task<ServerProcess> StartAsync(string name, string fileName, Func<int, IEnumerable<string>> arguments,
        string readinessPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreePort.Next();
        var start = new ProcessStartInfo(fileName, arguments(port))
        {
            WorkingDirectory = RepositoryRoot.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var output = new ConcurrentQueue<string>();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} could not be started.");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return ReadyAsync(name, new ServerProcess(process, new Uri($"http://127.0.0.1:{port}")), readinessPath, output);
    }

    /// <summary>The published local host (`dotnet Functions.LocalHost.dll`) on <paramref name="storage"/>, started as the tests start it.</summary>
    public static Task<ServerProcess> StartLocalHostAsync(string dll, string storage, IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = FreePort.Next();
        var output = new ConcurrentQueue<string>();
        var process = AppProcess.Start(dll, storage, port, settings, output);
        return ReadyAsync("the local host", new ServerProcess(process, new Uri($"http://127.0.0.1:{port}")), "/api/healthz", output);
    }

    static async Task<ServerProcess> ReadyAsync(string name, ServerProcess server, string readinessPath, ConcurrentQueue<string> output)
    {
        using var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60) && !server.Process.HasExited; await Task.Delay(100))
        {
            try
            {
                if ((await client.GetAsync(readinessPath)).IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
        }
        await server.DisposeAsync();
        throw new InvalidOperationException($"{name} did not answer {readinessPath} within 60 s:\n{string.Join('\n', output)}");
    }
}

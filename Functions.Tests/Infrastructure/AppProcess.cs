using System.Collections.Concurrent;
using System.Diagnostics;

namespace Functions.Tests.Infrastructure;

/// <summary>
/// The app in its local host, started as its own process (`dotnet Functions.LocalHost.dll`) on a free loopback port, as it runs for real, with
/// settings as environment variables and its console output kept. <see cref="Kill"/> is a crash: SIGKILL, no shutdown.
/// </summary>
public sealed partial class AppProcess : OwnedProcess
{
    public Uri BaseAddress { get; }
    public ConcurrentQueue<string> Output { get; }

    /// <summary>The output's error and critical lines (the console stamps each line with its time first).</summary>
    public List<string> FailLines => [.. Output.Where(line => FailLevel().IsMatch(line))];

    [System.Text.RegularExpressions.GeneratedRegex(@"^(\S+ )?(fail|crit): ")]
    private static partial System.Text.RegularExpressions.Regex FailLevel();

    AppProcess(Process process, Uri baseAddress, ConcurrentQueue<string> output) : base(process) => (BaseAddress, Output) = (baseAddress, output);

    /// <summary>The local host the test project was built with (its output holds Functions.LocalHost.dll, the app and its settings files).</summary>
    public static string BuiltDll => Path.Combine(AppContext.BaseDirectory, "Functions.LocalHost.dll");

    public static Process Start(string dll, string storage, int port, IReadOnlyDictionary<string, string>? settings = null,
        ConcurrentQueue<string>? output = null)
    {
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["AzureWebJobsStorage"] = storage;
        start.Environment["MALLOC_ARENA_MAX"] = "2"; // as scripts/run.sh and the Azure app settings start it
        start.Environment["Auth__AdminKey"] = "process-admin-key";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key.Replace(":", "__")] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output?.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output?.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Starts the app and waits until it is healthy, or with <paramref name="untilHealthy"/> false only until it answers HTTP (its storage may not).</summary>
    public static async Task<AppProcess> StartAsync(string dll, string storage, IReadOnlyDictionary<string, string>? settings = null, bool untilHealthy = true)
    {
        var port = FreePort.Next();
        var output = new ConcurrentQueue<string>();
        var app = new AppProcess(Start(dll, storage, port, settings, output), new Uri($"http://127.0.0.1:{port}"), output);
        using var client = app.CreateClient();
        for (var i = 0; i < 600; i++)
        {
            if (app.Process.HasExited) break;
            try
            {
                // A route that no function serves answers 404 without touching storage.
                if (untilHealthy ? (await client.GetAsync("/api/healthz")).IsSuccessStatusCode : (await client.GetAsync("/api/no-such-route")).StatusCode > 0)
                    return app;
            }
            catch (HttpRequestException) { }
            await Task.Delay(50);
        }
        await app.DisposeAsync();
        throw new InvalidOperationException($"The app did not {(untilHealthy ? "become healthy" : "answer")} in 30 s:\n{string.Join('\n', output)}");
    }

    public HttpClient CreateClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
}

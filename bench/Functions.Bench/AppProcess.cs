using System.Diagnostics;
using Functions.Tests.Infrastructure;

namespace Functions.Bench;

/// <summary>A published app started as its own process on a free loopback port, as it runs for real.</summary>
sealed class AppProcess : IAsyncDisposable
{
    readonly Process _process;
    public Uri BaseAddress { get; }

    AppProcess(Process process, Uri baseAddress) => (_process, BaseAddress) = (process, baseAddress);

    public static Process Start(string dll, string storage, int port)
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
        start.Environment["Auth__AdminKey"] = "bench-admin-key";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task<AppProcess> StartAsync(string dll, string storage)
    {
        var port = FreePort.Next();
        var process = Start(dll, storage, port);
        var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var client = new HttpClient { BaseAddress = app.BaseAddress };
        for (var i = 0; i < 600; i++)
        {
            try
            {
                if ((await client.GetAsync("/api/healthz")).IsSuccessStatusCode) return app;
            }
            catch (HttpRequestException) { }
            await Task.Delay(50);
        }
        throw new InvalidOperationException("The app did not become healthy in 30 s.");
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Diagnostics;

namespace Functions.Tests.Infrastructure;

/// <summary>A real Azurite (from the repository's node_modules) on free loopback ports, in memory, for one fixture.</summary>
public sealed class Azurite : OwnedProcess
{
    const string Account = "devstoreaccount1";
    const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{Account};QueueEndpoint=http://127.0.0.1:{QueuePort}/{Account};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{Account};";

    Azurite(Process process, int blob, int queue, int table) : base(process) => (BlobPort, QueuePort, TablePort) = (blob, queue, table);

    /// <summary>
    /// Starts an emulator on three free ports. A port can be taken by another process between being found free and
    /// being bound (many tests start processes at once); the emulator then exits, and is started again on new ports, as
    /// is one that does not listen within 30 s (once seen on a loaded machine).
    /// </summary>
    public static async Task<Azurite> StartAsync()
    {
        var script = Path.Combine(RepositoryRoot.Path, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script))
            throw new InvalidOperationException($"Azurite is not installed ({script} is missing): run 'npm ci' in {RepositoryRoot.Path}.");
        for (var attempt = 1; ; attempt++)
        {
            var azurite = Start(script);
            if (await azurite.WaitUntilListeningAsync() && await azurite.AnswersAsAzuriteAsync()) return azurite;
            await azurite.DisposeAsync();
            if (attempt == 3) throw new InvalidOperationException("Azurite did not listen on its ports, three times.");
        }
    }

    // --disableTelemetry: Azurite reports every request to Application Insights unless told not to, which costs it more
    // CPU per generation than the app's own storing (bench/RESULTS.md, "Azurite's telemetry") and sends usage off the machine.
    static Azurite Start(string script)
    {
        var (blob, queue, table) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                "-e", ExitsWithItsParent, "--",
                script, "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl", "--disableTelemetry",
                "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                "--blobPort", blob.ToString(), "--queuePort", queue.ToString(), "--tablePort", table.ToString(),
            },
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        return new Azurite(process, blob, queue, table);
    }

    // Azurite (its script, process.argv[1]) that exits when its standard input closes: when the process that started it
    // ends, however it ends, rather than living on with its ports (AzuritePool keeps emulators until the test run's end).
    const string ExitsWithItsParent = "process.stdin.on('end', () => process.exit(0)); process.stdin.resume(); require(process.argv[1]);";

    // A port another process took between FreePort and the emulator's bind accepts connections too (a test app's
    // Kestrel answered a fixture's table requests with 404s once): each port must answer as Azurite's own service.
    async Task<bool> AnswersAsAzuriteAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
        {
            try
            {
                using var answer = await http.GetAsync($"http://127.0.0.1:{port}/{Account}");
                if (!answer.Headers.Server.ToString().StartsWith("Azurite-", StringComparison.Ordinal)) return false;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }
        return !Process.HasExited;
    }

    // False when the emulator exited first (a port was taken), rather than waiting out the timeout.
    async Task<bool> WaitUntilListeningAsync()
    {
        foreach (var port in new[] { BlobPort, QueuePort, TablePort })
            if (!await FreePort.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(30), () => !Process.HasExited)) return false;
        return true;
    }
}

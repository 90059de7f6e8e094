using System.Collections.Concurrent;
using Functions.Tests.Infrastructure;

namespace Functions.Tests.Host;

public sealed class CustomHandlerPortTests
{
    [Fact]
    public async Task With_FUNCTIONS_CUSTOMHANDLER_PORT_set_the_app_listens_there_and_nowhere_else()
    {
        await using var azurite = await Azurite.StartAsync();
        var (ownPort, hostPort) = (FreePort.Next(), FreePort.Next());
        var output = new ConcurrentQueue<string>();
        using var process = AppProcess.Start(AppProcess.BuiltDll, azurite.ConnectionString, ownPort,
            new Dictionary<string, string> { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = hostPort.ToString(), ["Logging:LogLevel:Functions.Jobs"] = "Information" }, output);
        try
        {
            using var client = new HttpClient();
            await Eventually.HoldsAsync(async () =>
            {
                try { return (await client.GetAsync($"http://127.0.0.1:{hostPort}/api/healthz")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, TimeSpan.FromSeconds(30));

            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"http://127.0.0.1:{ownPort}/api/healthz"));
            await Eventually.HoldsAsync(() => Task.FromResult(output.Any(line => line.Contains("Queue listener off"))));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}

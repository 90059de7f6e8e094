using System.Diagnostics;
using Functions.Tests.Api;

namespace Functions.Tests.Processes;

/// <summary>The local host as its own process: SIGTERM stops it cleanly and soon, Durable worker and sidecar included.</summary>
public sealed class ShutdownTests : IAsyncLifetime
{
    Azurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await Azurite.StartAsync();

    [Fact]
    public async Task SIGTERM_stops_the_local_host_within_5_seconds_after_it_ran_a_job()
    {
        await using var app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString);
        using (var client = app.CreateClient())
        {
            var accepted = await JobsApiTests.SubmitAsyncAsync(client, new { prompt = "before the stop" });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            await JobsApiTests.PollAsync(client, accepted.Headers.Location!.AbsolutePath);
        }

        var clock = Stopwatch.StartNew();
        var stopped = await app.TerminateAsync(TimeSpan.FromSeconds(5));

        Assert.True(stopped, $"still running {clock.Elapsed} after SIGTERM:\n{string.Join('\n', app.Output.TakeLast(30))}");
        Assert.Equal(0, app.ExitCode);
    }

    public Task DisposeAsync() => _azurite.DisposeAsync().AsTask();
}

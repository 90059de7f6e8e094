using System.Diagnostics;
using Functions.Tests.Api;
using Functions.Tests.Fakes;

namespace Functions.Tests.Processes;

/// <summary>
/// The local host as its own process: SIGTERM stops it cleanly and soon, Durable worker and sidecar included, and a job
/// step that finishes during the stop is kept rather than run (and paid for) again.
/// </summary>
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

    [Fact]
    public async Task A_job_step_that_finishes_during_the_SIGTERM_is_kept_and_the_upstream_is_not_called_again()
    {
        await using var upstream = new FakeOpenAi();
        upstream.Fail("/v1/images/generations", Fault.Slow, times: 1);
        var settings = new Dictionary<string, string>
        {
            ["Generation:OfflineRenderer"] = "false",
            ["Providers:OpenAI:BaseUrl"] = upstream.BaseUrl + "/v1",
            ["Providers:OpenAI:Token"] = FakeOpenAi.Key,
            ["DurableTask:VisibilityTimeoutSeconds"] = "5",
            ["DurableTask:LeaseSeconds"] = "6",
        };
        string job;
        await using (var app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, settings))
        {
            using var client = app.CreateClient();
            var accepted = await JobsApiTests.SubmitAsyncAsync(client, new { prompt = "stopped mid-call", model = "gpt-image-1" });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            job = accepted.Headers.Location!.AbsolutePath;
            await Eventually.HoldsAsync(() => Task.FromResult(upstream.CountOf("/v1/images/generations") == 1));

            Assert.True(await app.TerminateAsync(TimeSpan.FromSeconds(5)), string.Join('\n', app.Output.TakeLast(30)));
        }

        await using var next = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, settings);
        using var nextClient = next.CreateClient();
        var ended = await JobsApiTests.PollAsync(nextClient, job, seconds: 60);
        Assert.Equal("succeeded", ended.GetProperty("status").GetString());
        Assert.Equal(1, upstream.CountOf("/v1/images/generations"));
    }

    public Task DisposeAsync() => _azurite.DisposeAsync().AsTask();
}

using System.Diagnostics;
using Functions.Tests.Api;
using Functions.Tests.Fakes;

namespace Functions.Tests.Processes;

/// <summary>
/// The local host as its own process: SIGTERM stops it cleanly and soon, Durable worker and sidecar included, a job
/// step that finishes during the stop is kept rather than run (and paid for) again, and one still under way is not waited for.
/// </summary>
[RunsLong]
public sealed class ShutdownTests : IAsyncLifetime
{
    Azurite _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuritePool.RentAsync();

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

    [Theory]
    [InlineData("Auth:AdminKey", "short", "Auth:AdminKey must be at least 16 characters")] // checked at start
    [InlineData("AzureWebJobsStorage", "garbage", "'AzureWebJobsStorage' is not a storage connection string")] // was: started, failed, exit 0
    [InlineData("DurableTask:LeaseSeconds", "abc", "DurableTask:LeaseSeconds")] // read while the host is built: was an abort
    [InlineData("DurableTask:HubName", "bad name!", "DurableTask:HubName must be 3 to 45 letters and digits")] // was: jobs 503 for ever
    [InlineData("ASPNETCORE_URLS", "notaurl", "ASPNETCORE_URLS (or --urls) has 'notaurl'")] // was: an abort at Kestrel's start
    [InlineData("ASPNETCORE_URLS", "http://127.0.0.1:7890/path", "ASPNETCORE_URLS (or --urls) has 'http://127.0.0.1:7890/path'")] // was: an abort, 134
    [InlineData("ASPNETCORE_URLS", "http://127.0.0.1:99999", "ASPNETCORE_URLS (or --urls) has 'http://127.0.0.1:99999'")] // was: an abort, 134
    [InlineData("ASPNETCORE_HTTP_PORTS", "notaport", "ASPNETCORE_HTTP_PORTS has 'notaport'")] // was: listening on port 80
    [InlineData("ASPNETCORE_URLS", "http://192.0.2.1:7890", "The app cannot listen on http://192.0.2.1:7890: ")] // an address not on this machine (TEST-NET-1): was an abort, 134
    [InlineData("AzureFunctionsWebHost:hostid", "bad/id!", "AzureFunctionsWebHost:hostid must be 1 to 32")] // was: taken into the lock blobs' names
    public Task A_bad_setting_stops_the_local_host_at_its_start_with_one_line_naming_it_and_exit_code_1(string key, string value, string message) =>
        AssertStopsAtStartWithOneLineAsync(FreePort.Next(), new Dictionary<string, string> { [key] = value }, message);

    [Fact]
    public async Task An_address_already_in_use_stops_the_local_host_at_its_start_with_one_line_naming_it_and_exit_code_1()
    {
        var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
            // Was: the host's 25-line "Hosting failed to start" stack before that line.
            await AssertStopsAtStartWithOneLineAsync(port, new Dictionary<string, string>(),
                $"The app cannot listen: Failed to bind to address http://127.0.0.1:{port}: address already in use.");
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public Task An_address_it_cannot_listen_on_stops_the_start_with_one_line_while_storage_does_not_answer() =>
        // Was: the background services waiting on storage were cancelled as failures, Error and Critical lines with stacks.
        AssertStopsAtStartWithOneLineAsync(FreePort.Next(), new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://192.0.2.1:7890", ["Auth:AdminKey"] = "" }, // a local key to make: a wait on storage
            "The app cannot listen on http://192.0.2.1:7890: ", storage: _azurite.ConnectionString.Replace($":{_azurite.TablePort}/", $":{FreePort.Next()}/"));

    async Task AssertStopsAtStartWithOneLineAsync(int port, Dictionary<string, string> settings, string message, string? storage = null)
    {
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var process = AppProcess.Start(AppProcess.BuiltDll, storage ?? _azurite.ConnectionString, port, settings, output);

        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true); // a host that took the setting runs on: not left behind
        }

        var said = string.Join('\n', output);
        Assert.True(process.ExitCode == 1, $"exit code {process.ExitCode}:\n{said}"); // not an abort's 134, nor 0
        Assert.Contains(message, said);
        Assert.DoesNotContain("Unhandled exception", said);
        Assert.DoesNotContain("   at ", said); // no stack trace for a setting
    }

    /// <summary>A listener that takes connections and never answers, and this Azurite's connection string pointed at it.</summary>
    (System.Net.Sockets.TcpListener Silent, string Storage) SilentStorage()
    {
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        return (silent, System.Text.RegularExpressions.Regex.Replace(_azurite.ConnectionString, @"127\.0\.0\.1:\d+", $"127.0.0.1:{port}"));
    }

    [Fact]
    public async Task SIGTERM_stops_the_local_host_within_5_seconds_while_its_storage_does_not_answer()
    {
        // Connections are taken (by the kernel) and never answered: the Durable backend's start hangs on the task hub.
        var (silent, storage) = SilentStorage();
        using var _ = silent;
        await using var app = await AppProcess.StartAsync(AppProcess.BuiltDll, storage, untilHealthy: false);
        await Task.Delay(TimeSpan.FromSeconds(1));

        var clock = Stopwatch.StartNew();
        var stopped = await app.TerminateAsync(TimeSpan.FromSeconds(5));

        Assert.True(stopped, $"still running {clock.Elapsed} after SIGTERM:\n{string.Join('\n', app.Output.TakeLast(30))}");
    }

    [Fact]
    public async Task SIGTERM_as_the_local_admin_key_waits_on_a_storage_retry_stops_with_exit_code_0_and_no_warning()
    {
        var (silent, storage) = SilentStorage();
        using var _ = silent;
        await using var app = await AppProcess.StartAsync(AppProcess.BuiltDll, storage, new Dictionary<string, string> { ["Auth:AdminKey"] = "" }, untilHealthy: false);
        // Time is the subject: past the storage clients' 10 s network timeout their retry is under way, and a stop that
        // cuts it short gets both tries back as an AggregateException (was: the service faulted, exit code 1).
        await Task.Delay(TimeSpan.FromSeconds(12));

        var stopped = await app.TerminateAsync(TimeSpan.FromSeconds(5));

        var said = string.Join('\n', app.Output);
        Assert.True(stopped, $"still running after SIGTERM:\n{said}");
        Assert.True(app.ExitCode == 0, $"exit code {app.ExitCode}:\n{said}");
        Assert.DoesNotContain("admin key", said);
    }

    [Fact]
    public async Task A_job_step_that_finishes_during_the_SIGTERM_is_kept_and_the_upstream_is_not_called_again()
    {
        await using var upstream = new FakeOpenAi();
        upstream.Fail("/v1/images/generations", Fault.Slow, times: 1);

        var job = await StopDuringTheCallAsync(upstream, "stopped mid-call");

        Assert.Equal("succeeded", (await EndOnTheNextProcessAsync(upstream, job)).GetProperty("status").GetString());
        Assert.Equal(1, upstream.CountOf("/v1/images/generations"));
    }

    [Fact]
    public async Task A_submit_still_under_way_at_the_SIGTERM_does_not_hold_the_stop_and_is_not_sent_again_on_the_next_process()
    {
        await using var upstream = new FakeOpenAi();
        upstream.Fail("/v1/images/generations", Fault.Hang, times: 1); // past the stop's bound: the step is lost with the process

        var job = await StopDuringTheCallAsync(upstream, "stopped mid-hang");

        // The lost step comes back to the task hub once its lock lapses, and the next process runs it; the call may have
        // been paid for (a billed task), so that run sends nothing and the model ends as interrupted: this job has no other.
        var ended = await EndOnTheNextProcessAsync(upstream, job);
        Assert.Equal("failed", ended.GetProperty("status").GetString());
        Assert.Contains("not sent again", ended.GetProperty("error").GetString());
        Assert.Equal(1, upstream.CountOf("/v1/images/generations"));
    }

    [Fact]
    public async Task A_generate_waiting_on_its_job_at_the_SIGTERM_answers_202_at_once_and_the_step_finishing_meanwhile_is_kept()
    {
        await using var upstream = new FakeOpenAi();
        upstream.Fail("/v1/images/generations", Fault.Slow, times: 1);
        string job;
        await using (var app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, SettingsFor(upstream)))
        {
            using var client = app.CreateClient();
            // An Idempotency-Key makes a job of it, and the request waits for the job (Generation:SyncWaitSeconds).
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
            {
                Content = JsonContent.Create(new { prompt = "waited on at the stop", model = "gpt-image-1" }),
            };
            request.Headers.Add("Idempotency-Key", $"stop-{Guid.NewGuid():N}");
            var waiting = client.SendAsync(request);
            await Eventually.HoldsAsync(() => Task.FromResult(upstream.CountOf("/v1/images/generations") == 1));

            var clock = Stopwatch.StartNew();
            var stopped = app.TerminateAsync(TimeSpan.FromSeconds(5));
            var answer = await waiting.WaitAsync(TimeSpan.FromSeconds(5));

            Assert.True(answer.StatusCode == HttpStatusCode.Accepted, $"{(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
            // The job as it is at the stop, its submit under way: was "queued", as it was scheduled.
            Assert.Equal("running", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"answered {clock.Elapsed} after SIGTERM");
            Assert.True(await stopped, $"still running {clock.Elapsed} after SIGTERM:\n{string.Join('\n', app.Output.TakeLast(30))}");
            job = answer.Headers.Location!.AbsolutePath;
        }

        // The step under way at the stop finished within the drain and was delivered: not run, nor paid for, again. (Before
        // the drain began with the stop, the server's wait for this request let the engine run on, and take new work.)
        Assert.Equal("succeeded", (await EndOnTheNextProcessAsync(upstream, job)).GetProperty("status").GetString());
        Assert.Equal(1, upstream.CountOf("/v1/images/generations"));
    }

    static Dictionary<string, string> SettingsFor(FakeOpenAi upstream) => new()
    {
        ["Generation:OfflineRenderer"] = "false",
        ["Providers:OpenAI:BaseUrl"] = upstream.BaseUrl + "/v1",
        ["Providers:OpenAI:Token"] = FakeOpenAi.Key,
        ["DurableTask:VisibilityTimeoutSeconds"] = "5",
        ["DurableTask:LeaseSeconds"] = "6",
    };

    /// <summary>Submits a gpt-image-1 job to a new process and sends it SIGTERM while the job's upstream call is under way; the job's path.</summary>
    async Task<string> StopDuringTheCallAsync(FakeOpenAi upstream, string prompt)
    {
        await using var app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, SettingsFor(upstream));
        using var client = app.CreateClient();
        var accepted = await JobsApiTests.SubmitAsyncAsync(client, new { prompt, model = "gpt-image-1" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        await Eventually.HoldsAsync(() => Task.FromResult(upstream.CountOf("/v1/images/generations") == 1));

        var clock = Stopwatch.StartNew();
        Assert.True(await app.TerminateAsync(TimeSpan.FromSeconds(5)), $"still running {clock.Elapsed} after SIGTERM:\n{string.Join('\n', app.Output.TakeLast(30))}");
        return accepted.Headers.Location!.AbsolutePath;
    }

    /// <summary>The job as it ends on a process started after the stop.</summary>
    async Task<JsonElement> EndOnTheNextProcessAsync(FakeOpenAi upstream, string job)
    {
        await using var next = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, SettingsFor(upstream));
        using var client = next.CreateClient();
        return await JobsApiTests.PollAsync(client, job, seconds: 60);
    }

    public Task DisposeAsync() => AzuritePool.ReturnAsync(_azurite);
}

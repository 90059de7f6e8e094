using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Storage.Queues;
using Functions.Storage;
using Functions.Tests.Api;
using Functions.Tests.Infrastructure;

namespace Functions.Tests.Processes;

/// <summary>Two app processes on one Azurite share one queue, as instances of one Functions app do.</summary>
public sealed partial class TwoInstanceTests : IAsyncLifetime
{
    const int Jobs = 100;
    Azurite _azurite = null!;
    AppProcess[] _apps = [];

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        var settings = new Dictionary<string, string> { ["Logging:LogLevel:Functions.Jobs.JobWorker"] = "Information" };
        _apps = await Task.WhenAll(AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, settings),
            AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString, settings));
    }

    [Fact]
    public async Task Two_processes_take_100_jobs_together_each_job_done_once_with_distinct_ids_and_nothing_left_queued()
    {
        var clients = _apps.Select(a => a.CreateClient()).ToArray();
        using var gate = new SemaphoreSlim(16);
        var jobIds = await Task.WhenAll(Enumerable.Range(0, Jobs).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var response = await JobsApiTests.SubmitAsyncAsync(clients[i % 2], new { prompt = $"shared job {i}" });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                return response.Headers.Location!.AbsolutePath.Split('/')[^1];
            }
            finally
            {
                gate.Release();
            }
        }));

        var jobs = await Task.WhenAll(jobIds.Select((id, i) => JobsApiTests.PollAsync(clients[(i + 1) % 2], $"/api/v1/jobs/{id}", seconds: 120)));

        Assert.All(jobs, j => Assert.Equal("succeeded", j.GetProperty("status").GetString()));
        Assert.Equal(Jobs, jobIds.Distinct().Count());
        Assert.Equal(Jobs, jobs.Select(j => j.GetProperty("result").GetProperty("image_id").GetInt64()).Distinct().Count());
        var history = await clients[0].GetFromJsonAsync<JsonElement>("/api/images/history?limit=1");
        Assert.Equal(Jobs, history.GetProperty("total").GetInt64());

        // Each job was run to its end by exactly one process, and both processes took part.
        var doneBy = _apps.Select(a => a.Output.Select(line => Succeeded().Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList()).ToArray();
        var all = doneBy.SelectMany(d => d).ToList();
        Assert.Equal(jobIds.Order(), all.Order());
        Assert.All(doneBy, d => Assert.NotEmpty(d));

        foreach (var queue in new[] { StorageNames.JobsQueue, StorageNames.JobsPoisonQueue })
        {
            Assert.Equal(0, (await new QueueClient(_azurite.ConnectionString, queue).GetPropertiesAsync()).Value.ApproximateMessagesCount);
        }
        foreach (var client in clients) client.Dispose();
    }

    [GeneratedRegex(@"Job (job_[0-9a-f]+) succeeded")]
    private static partial Regex Succeeded();

    public async Task DisposeAsync()
    {
        foreach (var app in _apps) await app.DisposeAsync();
        await _azurite.DisposeAsync();
    }
}

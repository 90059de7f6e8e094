namespace Functions.Tests.Processes;

/// <summary>
/// An answer's X-Request-Id finds the service's log lines about it. A job's own lines (its failure, its image stored)
/// carry the job's id; the request that made the job logs the line that ties the two.
/// </summary>
public sealed class RequestIdLogTests : IAsyncLifetime
{
    Azurite _azurite = null!;
    AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuritePool.RentAsync();
        _app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString,
            new Dictionary<string, string> { ["Logging:LogLevel:Functions.Jobs.JobSubmitter"] = "Information" });
    }

    [Fact]
    public async Task The_request_that_made_a_job_logs_its_request_id_beside_the_job_id()
    {
        using var client = _app.CreateClient();
        using var request = GenerateRequests.With(new { prompt = "a logged job" }, "Prefer", "respond-async");

        var answer = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        var jobId = (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var requestId = Assert.Single(answer.Headers.GetValues("X-Request-Id"));
        await Eventually.HoldsAsync(() => Task.FromResult(_app.Output.Any(line => line.Contains($"RequestId:{requestId}") && line.Contains($"Job {jobId} scheduled"))));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await AzuritePool.ReturnAsync(_azurite);
    }
}

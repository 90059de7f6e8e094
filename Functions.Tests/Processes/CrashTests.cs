using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Functions.Files;
using Functions.Storage;
using Functions.Tests.Api;
using Functions.Tests.Fakes;

namespace Functions.Tests.Processes;

/// <summary>
/// The app as a separate process on Azurite, its table requests through a <see cref="StorageProxy"/>, generating with
/// the fake geminigen (an asynchronous upstream, which lets a job be held). Each test kills the process (SIGKILL) at
/// one point of a job, starts a new one, and checks the job still ends once: one history row, one blob, one submit.
/// </summary>
public abstract class CrashTest : IAsyncLifetime
{
    protected Azurite Azurite { get; private set; } = null!;
    protected StorageProxy TableProxy { get; private set; } = null!;
    protected StorageProxy QueueProxy { get; private set; } = null!;
    protected FakeGeminigen Geminigen { get; } = new();
    protected AppProcess App { get; private set; } = null!;
    protected HttpClient Client { get; private set; } = null!;
    BlobContainerClient _files = null!;

    public async Task InitializeAsync()
    {
        Azurite = await AzuritePool.RentAsync();
        TableProxy = new StorageProxy(Azurite.TablePort);
        QueueProxy = new StorageProxy(Azurite.QueuePort);
        _files = new BlobContainerClient(Azurite.ConnectionString, StorageNames.FilesContainer);
        await StartAppAsync();
    }

    async Task StartAppAsync(IReadOnlyDictionary<string, string>? changed = null)
    {
        var storage = Azurite.ConnectionString.Replace($"127.0.0.1:{Azurite.TablePort}/", $"127.0.0.1:{TableProxy.Port}/")
            .Replace($"127.0.0.1:{Azurite.QueuePort}/", $"127.0.0.1:{QueueProxy.Port}/");
        var settings = new Dictionary<string, string>
        {
            ["Generation:OfflineRenderer"] = "false",
            ["Providers:Geminigen:BaseUrl"] = Geminigen.BaseUrl + "/uapi/v1",
            ["Providers:Geminigen:Token"] = FakeGeminigen.ApiKey,
            ["Upstream:AllowPrivateAddresses"] = "true",
            ["Upstream:PollMinSeconds"] = "0.2",
            ["Upstream:PollMaxSeconds"] = "0.2",
            ["DurableTask:VisibilityTimeoutSeconds"] = "5",
            ["DurableTask:LeaseSeconds"] = "6",
        };
        foreach (var (key, value) in changed ?? new Dictionary<string, string>()) settings[key] = value;
        App = await AppProcess.StartAsync(AppProcess.BuiltDll, storage, settings);
        Client = App.CreateClient();
    }

    /// <summary>
    /// Submits a job, lets <paramref name="crashPoint"/> bring it to where the process dies, kills it, restarts (with
    /// the settings <paramref name="changed"/> says, as after a deployment).
    /// </summary>
    protected async Task<string> CrashAndRestartAsync(Func<string, Task> crashPoint, IReadOnlyDictionary<string, string>? changed = null)
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(Client, new { prompt = "survives a crash", model = "imagen-4" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var jobId = accepted.Headers.Location!.AbsolutePath.Split('/')[^1];

        // Only a guard against a hang: under heavy load (a CPU burner beside the suite) the Store once took longer than 30 s to come.
        await crashPoint(jobId).WaitAsync(TimeSpan.FromSeconds(120));
        App.Kill();
        Client.Dispose();
        TableProxy.PassAll();
        Geminigen.Hold = false;
        await StartAppAsync(changed);
        return jobId;
    }

    protected async Task AssertEndedOnceAsync(string jobId)
    {
        var job = await JobsApiTests.PollAsync(Client, $"/api/v1/jobs/{jobId}", seconds: 60);
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal(1, Geminigen.Submits);

        var history = await Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100");
        Assert.Equal(1, history.GetProperty("total").GetInt64());
        Assert.Equal(job.GetProperty("result").GetProperty("image_id").GetInt64(), history.GetProperty("images")[0].GetProperty("id").GetInt64());

        var blobs = new List<string>();
        await foreach (var blob in _files.GetBlobsAsync(new GetBlobsOptions())) blobs.Add(blob.Name);
        Assert.Equal([FileIds.FileIdForJob(jobId)], blobs);
        Assert.Equal(0, (await Client.GetFromJsonAsync<JsonElement>("/api/health")).GetProperty("queue_len").GetInt64());
    }

    protected async Task<bool> BlobExistsAsync(string jobId) => await _files.GetBlobClient(FileIds.FileIdForJob(jobId)).ExistsAsync();

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        await TableProxy.DisposeAsync();
        await QueueProxy.DisposeAsync();
        await Geminigen.DisposeAsync();
        await AzuritePool.ReturnAsync(Azurite);
    }
}

public sealed class CrashAfterUpstreamSubmitTests : CrashTest
{
    [Fact]
    public async Task Killed_after_the_upstream_submit_the_job_resumes_its_task_and_ends_once()
    {
        Geminigen.Hold = true;

        var jobId = await CrashAndRestartAsync(async jobId =>
        {
            // The submit is done and its task id saved in the job's checkpoint.
            await Eventually.HoldsAsync(async () =>
                (await Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}")).GetProperty("progress_label").GetString() == "generating",
                TimeSpan.FromSeconds(110));
            Assert.Equal(1, Geminigen.Submits);
        });

        await AssertEndedOnceAsync(jobId);
    }
}

public sealed class ModelMovedWhileItsTaskRanTests : CrashTest
{
    [Fact]
    public async Task A_model_moved_to_a_provider_without_tasks_ends_with_that_reason_and_its_fallback_runs()
    {
        Geminigen.Hold = true;

        var jobId = await CrashAndRestartAsync(
            jobId => Eventually.HoldsAsync(async () =>
                (await Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}")).GetProperty("progress_label").GetString() == "generating",
                TimeSpan.FromSeconds(110)),
            changed: new Dictionary<string, string>
            {
                ["Models:imagen-4:Provider"] = "siliconflow", // its geminigen task cannot be checked there: was 4 attempts, then 500 attempts_exhausted
                ["Providers:SiliconFlow:Token"] = "sk-moved-model-0000",
                ["Providers:SiliconFlow:BaseUrl"] = "http://127.0.0.1:9/v1",
            });

        var job = await JobsApiTests.PollAsync(Client, $"/api/v1/jobs/{jobId}", seconds: 60);
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal(2, Geminigen.Submits); // imagen-4's before the restart, then its fallback's
        Assert.Contains(App.Output, line => line.Contains("imagen-4 failed (provider_unavailable: imagen-4 was moved to the siliconflow provider while the job ran")
            && line.Contains("falling back to imagen-flash"));
    }
}

[RunsLong]
public sealed class QueueOutageAtAStepsEndTests : CrashTest
{
    [Fact]
    public async Task A_step_whose_end_storage_could_not_take_runs_again_once_storage_is_back_and_its_job_ends()
    {
        // The Store's history write is held (the storage clients give up on it after their network timeout and send it
        // again); meanwhile the task hub's queues go down, so that neither the step's completion nor its abandon lands.
        var historyWrite = TableProxy.HoldFirst(r => r.Method == "POST" && r.Target.Contains("$batch") && r.Body.Contains("/images"));
        var accepted = await JobsApiTests.SubmitAsyncAsync(Client, new { prompt = "ends across a queue outage", model = "imagen-4" });
        var jobId = accepted.Headers.Location!.AbsolutePath.Split('/')[^1];
        await historyWrite.WaitAsync(TimeSpan.FromSeconds(120));
        QueueProxy.RefuseAll(HttpStatusCode.ServiceUnavailable);
        await Eventually.HoldsAsync(() => Task.FromResult(App.Output.Any(line => line.Contains("could not be given back to storage"))), TimeSpan.FromSeconds(180));
        QueueProxy.PassAll();

        await AssertEndedOnceAsync(jobId); // was: running for good (its deadline's timer fired; the orchestrator waited for the step)
    }
}

public sealed class CrashAfterBlobWriteTests : CrashTest
{
    [Fact]
    public async Task Killed_after_the_blob_write_the_job_ends_once()
    {
        // The Store activity's history transaction is the next write after its blob: hold it, and die there.
        var historyWrite = TableProxy.HoldFirst(r => r.Method == "POST" && r.Target.Contains("$batch") && r.Body.Contains("/images"));

        var jobId = await CrashAndRestartAsync(async jobId =>
        {
            await historyWrite;
            Assert.True(await BlobExistsAsync(jobId));
            Assert.Equal(0, (await Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
        });

        await AssertEndedOnceAsync(jobId);
    }
}

public sealed class CrashAfterHistoryWriteTests : CrashTest
{
    [Fact]
    public async Task Killed_after_the_history_write_the_job_ends_once()
    {
        // The orchestration's record of the finished Store follows the history transaction: hold it, and die there.
        var finish = TableProxy.HoldFirst(r => r.Target.Contains("$batch") && r.Body.Contains("TaskCompleted") && r.Body.Contains("ImageId"));

        var jobId = await CrashAndRestartAsync(async jobId =>
        {
            await finish;
            Assert.Equal(1, (await Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
        });

        await AssertEndedOnceAsync(jobId);
    }
}

public sealed class CrashBeforeAFailedJobsStatusRowTests : CrashTest
{
    [Fact]
    public async Task Killed_between_a_failed_jobs_history_and_its_status_row_the_job_still_reads_its_failure()
    {
        // Every submit is refused (400, not retried): the job fails in its first step. DurableTask.AzureStorage writes the
        // step's history (ExecutionCompleted) and then the instance row (Failed, with the custom status that holds the code):
        // hold that row's write, and die there. The next process finds the history ended and the row still running, and
        // writes the row again from the history alone, which has no custom status.
        Geminigen.Fail("/uapi/v1/generate_image", Fault.BadRequest);
        var statusRow = TableProxy.HoldFirst(r => r.Method != "GET" && r.Target.Contains("Instances") && r.Body.Contains("\"RuntimeStatus\":\"Failed\""));

        var jobId = await CrashAndRestartAsync(async _ => await statusRow);

        var job = await JobsApiTests.PollAsync(Client, $"/api/v1/jobs/{jobId}", seconds: 60);
        Assert.True(job.GetProperty("status").GetString() == "failed", job.ToString());
        // Was: "The generation failed." and no started_at (the row's custom status "null", its output the failure's text).
        Assert.Equal("imagen-4: geminigen: TEXT_TOO_LONG: Prompt is too long", job.GetProperty("error").GetString());
        Assert.NotEqual(JsonValueKind.Null, job.GetProperty("started_at").ValueKind);
    }
}

public sealed class CrashBeforeASucceededJobsStatusRowTests : CrashTest
{
    [Fact]
    public async Task Killed_between_a_succeeded_jobs_history_and_its_status_row_the_job_reads_done_with_its_start()
    {
        // As for a failed job above: the row written again from the history alone has no custom status ("done", the start).
        var statusRow = TableProxy.HoldFirst(r => r.Method != "GET" && r.Target.Contains("Instances") && r.Body.Contains("\"RuntimeStatus\":\"Completed\""));

        var jobId = await CrashAndRestartAsync(async _ => await statusRow);

        await AssertEndedOnceAsync(jobId);
        var job = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}");
        Assert.Equal("done", job.GetProperty("progress_label").GetString()); // was "running"
        Assert.True(job.GetProperty("started_at").ValueKind == JsonValueKind.Number, job.ToString()); // was null
    }
}

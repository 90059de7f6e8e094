using Functions.Files;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Functions.Generation;
using Functions.Jobs;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Functions.Tests.Api;
using Functions.Tests.Providers;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.Extensions.DependencyInjection;
using P = Microsoft.DurableTask.Protobuf;

namespace Functions.Tests.Jobs;

/// <summary>The gated provider, and requests that wait for their jobs.</summary>
public sealed class GatedWaitingFixture : GatedProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:SyncWaitSeconds"] = "20" };
}

public sealed class CancelWaitedTests(GatedWaitingFixture app) : IClassFixture<GatedWaitingFixture>
{
    [Fact]
    public async Task A_request_waiting_on_its_job_answers_409_job_canceled_when_the_job_is_canceled()
    {
        app.Reset();
        // An Idempotency-Key makes the generation a job that the request waits for.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
            { Content = JsonContent.Create(new { prompt = "waiting, then canceled" }) };
        request.Headers.Add("Idempotency-Key", "wait-then-cancel");
        var waiting = app.Client.SendAsync(request);
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the first job of a fresh app
        // The engine records the instance as running just after it hands out the first step.
        string? jobId = null;
        await Eventually.HoldsAsync(async () =>
        {
            var running = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=running&limit=100");
            jobId = running.GetProperty("data").EnumerateArray()
                .Where(j => j.GetProperty("params").GetProperty("prompt").GetString() == "waiting, then canceled")
                .Select(j => j.GetProperty("id").GetString()).SingleOrDefault();
            return jobId is not null;
        });

        await app.Client.DeleteAsync($"/api/v1/jobs/{jobId}");
        app.Gate.SetResult();

        var response = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("job_canceled", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }
}

public sealed class CancelRunningTests(GatedProviderFixture app) : IClassFixture<GatedProviderFixture>
{
    [Fact]
    public async Task A_job_canceled_while_its_provider_works_keeps_nothing_of_what_it_made()
    {
        app.Reset();
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled mid-flight" });
        var path = accepted.Headers.Location!.AbsolutePath;
        var jobId = path.Split('/')[^1];
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the first job of a fresh app
        // The engine records the instance as running just after it hands out the first step.
        await Eventually.HoldsAsync(async () => (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString() == "running");
        var poll = await app.Client.GetAsync(path);
        Assert.NotNull(poll.Headers.RetryAfter); // while it runs
        var running = await poll.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, running.GetProperty("finished_at").ValueKind);
        // Started, its first step under way: no longer "queued".
        Assert.Equal(("running", 0.0), (running.GetProperty("progress_label").GetString(), running.GetProperty("progress").GetDouble()));
        Assert.Equal([jobId], await JobIdsListedAsync(app.Client, "running"));
        Assert.Empty(await JobIdsListedAsync(app.Client, "queued"));

        var response = await app.Client.DeleteAsync(path);
        app.Gate.SetResult();

        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("was_running").GetBoolean());
        var fileId = FileIds.FileIdForJob(jobId);
        // The worker stored the image, found the job canceled at its last step, and removed what it stored.
        await Eventually.HoldsAsync(() => Task.FromResult(app.Logs.Any(line => line.Contains($"Job {jobId} ended without its image"))));
        var job = await app.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.Equal("canceled", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("result").ValueKind);
        Assert.Equal(JsonValueKind.Null, job.GetProperty("error").ValueKind); // "Error message when status is failed; otherwise null"
        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100");
        Assert.Equal(0, history.GetProperty("total").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/files/{fileId}")).StatusCode);
        Assert.Contains(jobId, await JobIdsListedAsync(app.Client, "canceled"));
        Assert.DoesNotContain(jobId, await JobIdsListedAsync(app.Client, "failed"));

        // A second DELETE forgets the ended job.
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(path)).StatusCode);
    }

    /// <summary>The ids of the public jobs <c>GET /api/v1/jobs?status=</c> lists in <paramref name="status"/> (one page of 100).</summary>
    public static async Task<List<string>> JobIdsListedAsync(HttpClient client, string? status) =>
        [.. (await client.GetFromJsonAsync<JsonElement>(status is null ? "/api/v1/jobs?limit=100" : $"/api/v1/jobs?status={status}&limit=100"))
            .GetProperty("data").EnumerateArray()
            .Select(j => j.GetProperty("id").GetString()!)];

    [Fact]
    public async Task A_job_canceled_while_it_runs_removes_its_copy_of_an_inline_reference_image()
    {
        app.Reset();
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled with its reference", model = "nano-banana-2",
            referenceImageBase64 = Convert.ToBase64String(Fakes.FakeUpstream.Image), referenceImageMime = "image/png" });
        var path = accepted.Headers.Location!.AbsolutePath;
        var jobId = path.Split('/')[^1];
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Eventually.HoldsAsync(async () => (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString() == "running");
        var copy = await app.ReferenceCopyOfAsync(jobId);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{copy}")).StatusCode);

        var response = await app.Client.DeleteAsync(path);
        app.Gate.SetResult();

        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/files/{copy}")).StatusCode); // not kept until the job is forgotten
        await Eventually.HoldsAsync(() => Task.FromResult(app.Logs.Any(line => line.Contains($"Job {jobId} ended without its image"))));
    }
}

public sealed class CancelWaitingUpstreamTests(RestartFixture app) : IClassFixture<RestartFixture>
{
    [Fact]
    public async Task A_job_canceled_while_the_upstream_works_stops_at_its_next_check_and_stores_nothing()
    {
        app.Geminigen.Hold = true;
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled upstream", model = "imagen-4" });
        var path = accepted.Headers.Location!.AbsolutePath;
        await Eventually.HoldsAsync(async () =>
            (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("progress_label").GetString() == "generating");

        var response = await app.Client.DeleteAsync(path);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("was_running").GetBoolean());
        var itsChecks = app.Geminigen.Requests.First(r => r.Path.StartsWith("/uapi/v1/history/", StringComparison.Ordinal)).Path; // its task's
        var checksAtCancel = app.Geminigen.CountOf(itsChecks);
        app.Geminigen.Hold = false;
        // A later job through the same worker and upstream: its submit, two checks and store come after the canceled job's next check, due at once.
        var later = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "submitted after the cancel", model = "imagen-4" })).Headers.Location!.AbsolutePath;
        Assert.Equal("succeeded", (await JobsApiTests.PollAsync(app.Client, later)).GetProperty("status").GetString());

        // At most the one check that was running when the orchestration was stopped.
        Assert.InRange(app.Geminigen.CountOf(itsChecks), checksAtCancel, checksAtCancel + 1);
        Assert.Equal(2, app.Geminigen.Submits);
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        Assert.Equal(1, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64()); // the later job's
    }
}

public sealed class CancelStopsUpstreamCallTests(HangingProviderFixture app) : IClassFixture<HangingProviderFixture>
{
    [Fact]
    public async Task A_cancel_stops_the_upstream_call_its_job_has_under_way()
    {
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled while its upstream hangs" });
        var path = accepted.Headers.Location!.AbsolutePath;
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var response = await app.Client.DeleteAsync(path);

        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetBoolean());
        // Not left to the deadline (600 s): a terminate does not stop an activity, and the hung call would hold its slot.
        await app.Canceled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        Assert.Equal(0, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
    }
}

/// <summary>
/// The app whose Durable worker connects to the engine only once a cancel has reached it: until then the engine
/// starts no job, so every job stays queued.
/// </summary>
public sealed class WorkerAfterFirstCancelFixture : AppFixture
{
    readonly TaskCompletionSource _canceled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.ConfigureAll<GrpcDurableTaskClientOptions>(options => options.Interceptors.Add(new AfterCalls("TerminateInstance", () => _canceled.TrySetResult())));
        services.ConfigureAll<GrpcDurableTaskWorkerOptions>(options => options.Interceptors.Add(new HeldCalls("GetWorkItems", () => _canceled.Task)));
    }
}

public sealed class CancelQueuedTests(WorkerAfterFirstCancelFixture app) : IClassFixture<WorkerAfterFirstCancelFixture>
{
    [Fact]
    public async Task A_job_not_yet_started_counts_in_queue_len_and_its_cancel_answers_was_running_false()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "never started" })).Headers.Location!.AbsolutePath;
        Assert.Equal(HttpStatusCode.Accepted, (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "private, never started", isPrivate = true })).StatusCode);
        var poll = await app.Client.GetAsync(path);
        var queued = await poll.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        Assert.NotNull(poll.Headers.RetryAfter); // while it waits
        Assert.Equal(JsonValueKind.Null, queued.GetProperty("started_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, queued.GetProperty("finished_at").ValueKind);
        Assert.Equal([path.Split('/')[^1]], await CancelRunningTests.JobIdsListedAsync(app.Client, "queued")); // the private one is not listed
        Assert.Empty(await CancelRunningTests.JobIdsListedAsync(app.Client, "running"));
        Assert.Equal(1, (await app.Client.GetFromJsonAsync<JsonElement>("/api/health")).GetProperty("queue_len").GetInt64()); // public jobs only

        var response = await app.Client.DeleteAsync(path); // its cancel reaches the engine first, then the worker connects

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("deleted").GetBoolean(), body.GetRawText()); // the engine stopped it within the wait
        Assert.False(body.GetProperty("was_running").GetBoolean());
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        // The engine may have started it as the worker connected: a step that stored meanwhile removes its own image.
        await Eventually.HoldsAsync(async () =>
            (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64() == 0);
    }
}

/// <summary>
/// The app whose engine, for the first cancel, does what DurableTask.AzureStorage does with a terminate it takes
/// before the job's start message (under load the start message can come back later, when the engine first met it
/// before the job's instance row existed): it marks the instance row Terminated, with the cancel's reason as its
/// output, and drops the terminate. Its worker takes no work until the test lets it, so the start comes after.
/// An audit saw 2 to 4 of 30 jobs canceled while queued run to the end that way, image stored.
/// </summary>
public sealed class LoneTerminateFixture : AppFixture
{
    readonly TaskCompletionSource _startAllowed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void AllowStart() => _startAllowed.TrySetResult();

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.ConfigureAll<GrpcDurableTaskClientOptions>(options => options.Interceptors.Add(new LoneTerminate(this)));
        services.ConfigureAll<GrpcDurableTaskWorkerOptions>(options => options.Interceptors.Add(new HeldCalls("GetWorkItems", () => _startAllowed.Task)));
    }

    public override async Task DisposeAsync()
    {
        AllowStart();
        await base.DisposeAsync();
    }

    sealed class LoneTerminate(LoneTerminateFixture fixture) : Interceptor
    {
        int _done;

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request,
            ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            if (request is not P.TerminateRequest terminate || Interlocked.Exchange(ref _done, 1) == 1) return continuation(request, context);
            async Task<TResponse> AppliedAsync()
            {
                // DurableTask.AzureStorage's UpdateStatusForTerminationAsync, on its Instances table.
                var instances = new TableClient(fixture.Azurite.ConnectionString, "ImageJobsInstances");
                await instances.UpdateEntityAsync(new TableEntity(terminate.InstanceId, "")
                {
                    ["RuntimeStatus"] = "Terminated", ["CompletedTime"] = DateTime.UtcNow, ["Output"] = terminate.Output,
                }, ETag.All, TableUpdateMode.Merge);
                return (TResponse)(object)new P.TerminateResponse();
            }
            return new AsyncUnaryCall<TResponse>(AppliedAsync(), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }
    }
}

public sealed class CancelBeforeStartTests(LoneTerminateFixture app) : IClassFixture<LoneTerminateFixture>
{
    [Fact]
    public async Task A_job_canceled_before_the_engine_started_it_ends_canceled_and_keeps_nothing_when_it_starts_after_all()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "canceled before its start" })).Headers.Location!.AbsolutePath;

        var body = await (await app.Client.DeleteAsync(path)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("deleted").GetBoolean(), body.GetRawText());
        Assert.False(body.GetProperty("was_running").GetBoolean());

        var allowedAt = DateTimeOffset.UtcNow;
        app.AllowStart(); // the start message comes after the cancel, and the engine runs the job
        // Until the job has run and ended again (its row was last written by the cancel, before the start).
        var durable = app.Service<DurableTaskClient>();
        var jobId = path.Split('/')[^1];
        await Eventually.HoldsAsync(async () => await durable.GetInstanceAsync(jobId) is { IsCompleted: true } job && job.LastUpdatedAt > allowedAt);
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        Assert.Equal(0, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
        Assert.Empty((await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/files")).GetProperty("data").EnumerateArray());
    }
}

public sealed class CanceledTimesBeforeStartTests(LoneTerminateFixture app) : IClassFixture<LoneTerminateFixture>
{
    [Fact]
    public async Task A_job_canceled_before_its_start_reads_the_same_ended_job_in_every_read_when_the_engine_runs_it_after_all()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "its end stays put" })).Headers.Location!.AbsolutePath;
        var jobId = path.Split('/')[^1];
        Assert.True((await (await app.Client.DeleteAsync(path)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetBoolean());
        var canceled = await ReadBothWaysAsync(path);
        Assert.Equal(JsonValueKind.Null, canceled.GetProperty("started_at").ValueKind); // canceled while queued
        Assert.True(canceled.GetProperty("finished_at").GetDouble() >= canceled.GetProperty("created_at").GetDouble(), canceled.GetRawText());

        var allowedAt = DateTimeOffset.UtcNow;
        app.AllowStart(); // the start the engine held runs the job, writing its instance again (running, then terminated)
        var durable = app.Service<DurableTaskClient>();
        await Eventually.HoldsAsync(async () => await durable.GetInstanceAsync(jobId) is { IsCompleted: true } job && job.LastUpdatedAt > allowedAt);

        var after = await ReadBothWaysAsync(path);
        Assert.Equal(canceled.GetProperty("finished_at").GetDouble(), after.GetProperty("finished_at").GetDouble()); // was: the late start's last write
        Assert.Equal(canceled.GetRawText(), after.GetRawText()); // nor a started_at (after that end) or progress of the late start
    }

    /// <summary>The job as GET /api/v1/jobs/{id} reads it, once the list has shown it the same.</summary>
    async Task<JsonElement> ReadBothWaysAsync(string path)
    {
        var job = await app.Client.GetFromJsonAsync<JsonElement>(path);
        var listed = (await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?limit=100")).GetProperty("data").EnumerateArray()
            .Single(j => j.GetProperty("id").GetString() == job.GetProperty("id").GetString());
        Assert.Equal(job.GetRawText(), listed.GetRawText());
        return job;
    }
}

public sealed class CanceledListBeforeStartTests(LoneTerminateFixture app) : IClassFixture<LoneTerminateFixture>
{
    [Fact]
    public async Task A_job_canceled_before_its_start_is_listed_as_canceled_while_the_late_start_runs_it()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "listed while its late start runs" })).Headers.Location!.AbsolutePath;
        Assert.True((await (await app.Client.DeleteAsync(path)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetBoolean());
        var jobId = path.Split('/')[^1];

        // What the engine writes when the start it held runs the job: Running, the cancel's reason still the output.
        await new TableClient(app.Azurite.ConnectionString, "ImageJobsInstances").UpdateEntityAsync(
            new TableEntity(jobId, "") { ["RuntimeStatus"] = "Running" }, ETag.All, TableUpdateMode.Merge);

        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
        Assert.Equal([jobId], await CancelRunningTests.JobIdsListedAsync(app.Client, "canceled"));
        Assert.Empty(await CancelRunningTests.JobIdsListedAsync(app.Client, "running"));
    }
}

public sealed class ForgetBeforeStartTests(LoneTerminateFixture app) : IClassFixture<LoneTerminateFixture>
{
    [Fact]
    public async Task A_job_canceled_and_forgotten_before_the_engine_started_it_stays_forgotten_when_it_starts_after_all()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "forgotten before its start" })).Headers.Location!.AbsolutePath;
        Assert.True((await (await app.Client.DeleteAsync(path)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetBoolean());

        var forget = await (await app.Client.DeleteAsync(path)).Content.ReadFromJsonAsync<JsonElement>(); // the second DELETE forgets the canceled job

        Assert.True(forget.GetProperty("deleted").GetBoolean(), forget.GetRawText());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(path)).StatusCode);
        var allowedAt = DateTimeOffset.UtcNow;
        app.AllowStart(); // the start message the engine still held comes now, and runs the job
        var durable = app.Service<DurableTaskClient>();
        var jobId = path.Split('/')[^1];
        // Purged at once, the instance came back from the start as a new job, which found no cancel and made its image.
        await Eventually.HoldsAsync(async () => await durable.GetInstanceAsync(jobId) is { IsCompleted: true } job && job.LastUpdatedAt > allowedAt);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.DeleteAsync(path)).StatusCode);
        Assert.DoesNotContain(jobId, await CancelRunningTests.JobIdsListedAsync(app.Client, null));
        Assert.DoesNotContain(jobId, await CancelRunningTests.JobIdsListedAsync(app.Client, "canceled"));
        Assert.Equal(0, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());

        // The daily purge forgets it for good: the engine has long ended it by then.
        var (forgotten, failed) = await app.Service<EndedJobs>().ForgetEndedBeforeAsync(durable, DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        Assert.Equal((1, 0), (forgotten, failed));
        Assert.Null(await durable.GetInstanceAsync(jobId));
        Assert.False(await app.HasCancelRecordAsync(jobId));
    }
}

public sealed class LateSubmitTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_submit_that_runs_after_its_job_was_forgotten_calls_no_upstream_and_leaves_the_engine_nothing_to_fail_on()
    {
        // Durable runs an activity at least once, and one still queued runs after its job has ended: here after a
        // DELETE forgot the job (no instance row, no history), as a Submit handed out late would find it.
        var jobId = JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);
        var call = new UpstreamCall(jobId, new GenerationRequest("forgotten", "none", "1:1", "grok", null, false, null, null), 0, "grok");
        var activities = ActivatorUtilities.CreateInstance<GenerationActivities>(app.App.Services);

        var step = await activities.SubmitGeneration(call, app.Service<DurableTaskClient>());

        Assert.Equal(GenerationErrors.Canceled, step.Failure?.Code);
        // A terminate sent for it would stay: DurableTask.AzureStorage merges it into the missing instance row (404)
        // and takes the message again every visibility timeout, for as long as the task hub lives.
        var queues = new QueueServiceClient(app.Azurite.ConnectionString);
        await Eventually.HoldsAsync(async () =>
        {
            var waiting = 0;
            await foreach (var queue in queues.GetQueuesAsync(prefix: "imagejobs-control"))
                waiting += (await queues.GetQueueClient(queue.Name).GetPropertiesAsync()).Value.ApproximateMessagesCount;
            return waiting == 0;
        });
    }
}

/// <summary>
/// The app whose Durable worker holds its report of each finished step until the test lets it go: the step has run
/// (a synchronous provider's image is stored, and the step found its job still running), and the engine has not
/// recorded it, so the job is still running.
/// </summary>
public sealed class HeldStepResultsFixture : AppFixture
{
    readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HeldCalls StepResults { get; }

    public HeldStepResultsFixture() => StepResults = new HeldCalls("CompleteActivityTask", () => _release.Task);

    protected override void ConfigureServices(IServiceCollection services) =>
        services.ConfigureAll<GrpcDurableTaskWorkerOptions>(options => options.Interceptors.Add(StepResults));

    public override async Task DisposeAsync()
    {
        _release.TrySetResult(); // the held reports go on, so the worker stops at once
        await base.DisposeAsync();
    }
}

public sealed class CancelAfterStoreTests(HeldStepResultsFixture app) : IClassFixture<HeldStepResultsFixture>
{
    [Fact]
    public async Task A_job_canceled_after_its_step_stored_the_image_has_the_image_removed_by_the_cancel_itself()
    {
        var path = (await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "stored, then canceled" })).Headers.Location!.AbsolutePath;
        var fileId = FileIds.FileIdForJob(path.Split('/')[^1]);
        await app.StepResults.Reached.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the first job of a fresh app
        // The step stored the image and, finding its job running, kept it: its own check is behind it.
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{fileId}")).StatusCode);
        Assert.Equal("running", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());

        var response = await app.Client.DeleteAsync(path);

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("deleted").GetBoolean(), body.GetRawText());
        Assert.True(body.GetProperty("was_running").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/files/{fileId}")).StatusCode);
        Assert.Equal(0, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
        Assert.Equal("canceled", (await app.Client.GetFromJsonAsync<JsonElement>(path)).GetProperty("status").GetString());
    }
}

using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Functions.Contracts.Kioai;
using Functions.Generation;
using Functions.Jobs;
using Functions.Storage;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>The app whose provider answers a submit with a task id, at a gate the test opens (open at first).</summary>
public sealed class TaskSubmitFixture : SeamProviderFixture
{
    public TaskCompletionSource Gate { get; set; } = Opened();
    public TaskCompletionSource Entered { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskSubmitFixture() =>
        Provider.Setup(p => p.SubmitAsync(It.IsAny<ProviderCall>(), It.IsAny<CancellationToken>())).Returns(async (ProviderCall call, CancellationToken _) =>
        {
            Entered.TrySetResult();
            await Gate.Task;
            return ProviderStep.Pending($"task-of-{call.Input.Request.Prompt}", 0, null);
        });

    public static TaskCompletionSource Opened()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }
}

/// <summary>A Submit the engine runs twice for one job and model sends one upstream call (<see cref="SubmitClaims"/>).</summary>
public sealed class SubmitClaimsTests(TaskSubmitFixture app) : IClassFixture<TaskSubmitFixture>
{
    [Fact]
    public async Task A_submit_run_again_after_the_first_answered_sends_nothing_and_answers_the_same_task()
    {
        var call = Call("run twice");

        var first = await SubmitAsync(call);
        var second = await SubmitAsync(call);

        Assert.Equal("task-of-run twice", first.TaskId);
        Assert.Equal(first.TaskId, second.TaskId);
        Assert.Null(second.Failure);
        Assert.Equal(1, UpstreamCalls("run twice"));
    }

    [Fact]
    public async Task A_submit_run_again_while_the_first_waits_on_its_call_waits_for_that_answer()
    {
        app.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var call = Call("two at once");

        var first = SubmitAsync(call);
        await app.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var looking = new WaitWatchingClock();
        var second = SubmitAsync(call, new SubmitClaims(app.App.Services.GetRequiredKeyedService<TableClient>(StorageNames.SubmitsTable),
            app.Service<StorageBootstrap>(), looking));
        // Its first wait to look again: an answer without waiting (interrupted, or its own call) would have come before it.
        await Task.WhenAny(looking.Waiting.Task, second).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(second.IsCompleted);
        app.Gate.SetResult();

        Assert.Equal("task-of-two at once", (await first).TaskId);
        Assert.Equal("task-of-two at once", (await second.WaitAsync(TimeSpan.FromSeconds(30))).TaskId);
        Assert.Equal(1, UpstreamCalls("two at once"));
    }

    [Fact]
    public async Task A_submit_whose_first_run_stopped_during_its_call_ends_the_model_as_interrupted_and_sends_nothing()
    {
        var call = Call("its first run died");
        await LeaveAStaleClaimAsync(app.Service<TableServiceClient>(), call.JobId);

        var step = await SubmitAsync(call);

        Assert.Equal(GenerationErrors.SubmitInterrupted, step.Failure?.Code);
        Assert.True(step.Failure!.Retryable); // the next model of the plan, if any, is tried, as after a submit that timed out
        Assert.Equal(0, UpstreamCalls("its first run died"));
    }

    [Theory]
    [InlineData(true)] // cut off between the history row and the record of its answer
    [InlineData(false)] // cut off between the file and its history row
    public async Task A_submit_whose_first_run_stored_its_image_before_it_was_cut_off_keeps_that_image_and_sends_nothing(bool rowWritten)
    {
        // A synchronous provider's image is stored within the submit; a crash before the answer is recorded leaves the image and a stale claim.
        var call = Call($"stored, then cut off ({rowWritten})");
        var debug = new ApiDebugInfo("https://upstream.example/v1/images", "POST", new Dictionary<string, string>(), [], 200, [], 1, false, null);
        await app.Service<ImageKeeper>().StoreForJobAsync(call.JobId, call.Request, "openai", new GeneratedImage(TestImages.Png(4, 3), "image/png", 4, 3, debug),
            CancellationToken.None);
        if (!rowWritten) await app.Service<History.ImageHistory>().DeleteByKeyAsync(call.JobId, CancellationToken.None);
        await LeaveAStaleClaimAsync(app.Service<TableServiceClient>(), call.JobId);

        var step = await SubmitAsync(call);

        Assert.Null(step.Failure);
        Assert.Equal(Files.FileIds.FileIdForJob(call.JobId), step.Stored?.FileId);
        Assert.Equal((4, 3, "image/png"), (step.Stored!.Width, step.Stored.Height, step.Stored.ContentType));
        Assert.Equal(step.Stored.ImageId, (await app.Service<History.ImageHistory>().FindByKeyAsync(call.JobId, CancellationToken.None))?.Id);
        Assert.StartsWith("recovered://", step.Stored.ApiDebug.RequestUrl); // the cut-off run's call details were not kept
        Assert.Equal(0, UpstreamCalls(call.Request.Prompt));
    }

    [Fact]
    public async Task A_submit_whose_first_run_stored_its_image_and_then_failed_keeps_that_image_and_sends_nothing()
    {
        // The first run's history row could not be written (storage): it recorded "interrupted" and threw; the engine runs the step again.
        var call = Call("stored, then failed");
        var debug = new ApiDebugInfo("https://upstream.example/v1/images", "POST", new Dictionary<string, string>(), [], 200, [], 1, false, null);
        await app.Service<ImageKeeper>().StoreForJobAsync(call.JobId, call.Request, "openai", new GeneratedImage(TestImages.Png(4, 3), "image/png", 4, 3, debug),
            CancellationToken.None);
        await app.Service<History.ImageHistory>().DeleteByKeyAsync(call.JobId, CancellationToken.None);
        var claims = app.Service<SubmitClaims>();
        await claims.RecordAsync((await claims.TryClaimAsync(call.JobId, 0, CancellationToken.None))!,
            new UpstreamStep(Failure: new StepFailure(GenerationErrors.SubmitInterrupted, "failed once sent", Retryable: true)), CancellationToken.None);

        var step = await SubmitAsync(call);

        Assert.Null(step.Failure);
        Assert.Equal(step.Stored?.ImageId, (await app.Service<History.ImageHistory>().FindByKeyAsync(call.JobId, CancellationToken.None))?.Id);
        Assert.Equal(0, UpstreamCalls(call.Request.Prompt));
    }

    [Fact]
    public async Task A_fallback_models_submit_is_sent_after_the_first_models_and_forgetting_the_job_removes_its_claim()
    {
        var call = Call("falls back");

        await SubmitAsync(call);
        var fallback = await SubmitAsync(call with { ModelIndex = 1 });
        var late = await SubmitAsync(call); // the first model's step delivered again after the job moved on

        Assert.Equal("task-of-falls back", fallback.TaskId);
        Assert.Equal(GenerationErrors.SubmitInterrupted, late.Failure?.Code);
        Assert.Equal(2, UpstreamCalls("falls back"));
        await app.Service<SubmitClaims>().ForgetAsync(call.JobId, CancellationToken.None);
        Assert.False((await app.Service<TableServiceClient>().GetTableClient(StorageNames.SubmitsTable)
            .GetEntityIfExistsAsync<TableEntity>(call.JobId, "submit")).HasValue);
    }

    [Fact]
    public async Task A_recorded_answer_with_a_stored_image_and_a_large_apidebug_comes_back_whole()
    {
        // A synchronous provider's answer is the stored image with its apiDebug, which may pass a binary property's 64 KiB.
        var claims = app.Service<SubmitClaims>();
        var jobId = Call("recorded").JobId;
        var debug = new ApiDebugInfo("https://upstream.example/v1/images", "POST", new Dictionary<string, string> { ["x-api-key"] = "***" },
            new JsonObject { ["prompt"] = new string('p', 40_000) }, 200, new JsonObject { ["note"] = new string('n', 40_000) }, 12.5, true, "grok: 503");
        var stored = new UpstreamStep(Stored: new JobResult(7, "file_0123", 165, 8, 6, "image/png", DateTimeOffset.UnixEpoch, debug));
        var claim = (await claims.TryClaimAsync(jobId, 0, CancellationToken.None))!;

        Assert.Equal(SubmitClaims.Recording.Recorded, await claims.RecordAsync(claim, stored, CancellationToken.None));
        var answer = (await claims.EarlierAnswerAsync(jobId, 0, CancellationToken.None))!.Stored!;

        Assert.Equal(stored.Stored! with { ApiDebug = null! }, answer with { ApiDebug = null! });
        Assert.Equal(debug.RequestBody.ToJsonString(), answer.ApiDebug.RequestBody.ToJsonString());
        Assert.Equal(debug.ResponseBody.ToJsonString(), answer.ApiDebug.ResponseBody.ToJsonString());
        Assert.Equal((debug.FallbackReason, debug.UsedFallback), (answer.ApiDebug.FallbackReason, answer.ApiDebug.UsedFallback));
    }

    [Fact]
    public async Task An_answer_over_what_a_row_holds_is_said_to_be_too_large_and_not_recorded()
    {
        var claims = app.Service<SubmitClaims>();
        var jobId = Call("too large").JobId;
        var debug = new ApiDebugInfo("https://upstream.example/v1/images", "POST", new Dictionary<string, string>(),
            new JsonObject { ["prompt"] = new string('p', 1_000_000) }, 200, new JsonObject(), 12.5, false, null);
        var claim = (await claims.TryClaimAsync(jobId, 0, CancellationToken.None))!;

        var recording = await claims.RecordAsync(claim, new UpstreamStep(Stored: new JobResult(7, "file_0123", 165, 8, 6, "image/png", DateTimeOffset.UnixEpoch, debug)),
            CancellationToken.None);

        Assert.Equal(SubmitClaims.Recording.TooLarge, recording); // a later run would find no answer and end the model as interrupted
    }

    [Fact]
    public async Task A_run_whose_claim_a_later_model_took_over_writes_neither_beat_nor_answer_into_it()
    {
        // A process frozen past the claim's staleness wakes up with the first model's answer after the job moved on.
        var claims = app.Service<SubmitClaims>();
        var jobId = Call("frozen").JobId;
        var first = (await claims.TryClaimAsync(jobId, 0, CancellationToken.None))!;
        var fallback = (await claims.TryClaimAsync(jobId, 1, CancellationToken.None))!;

        Assert.False(await claims.BeatAsync(first, CancellationToken.None));
        Assert.Equal(SubmitClaims.Recording.ClaimLost, await claims.RecordAsync(first, new UpstreamStep(TaskId: "first-models-task"), CancellationToken.None));
        Assert.True(await claims.BeatAsync(fallback, CancellationToken.None));
        Assert.Equal(SubmitClaims.Recording.Recorded, await claims.RecordAsync(fallback, new UpstreamStep(TaskId: "fallbacks-task"), CancellationToken.None));
        Assert.Equal("fallbacks-task", (await claims.EarlierAnswerAsync(jobId, 1, CancellationToken.None))?.TaskId);
    }

    [Fact]
    public async Task Forgetting_a_canceled_job_removes_its_claim_at_once_though_its_instance_stays_a_day()
    {
        var call = Call("canceled, then forgotten");
        await SubmitAsync(call);
        var canceled = new OrchestrationMetadata(GenerationOrchestrator.Name, call.JobId)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Terminated,
            DataConverter = JsonDataConverter.Default,
            SerializedInput = JsonDataConverter.Default.Serialize(new GenerationJob(call.Request, ["grok"], new JobTimings(30, 2, 10))),
        };

        Assert.True(await app.Service<EndedJobs>().ForgetAsync(new Mock<DurableTaskClient>("seam").Object, canceled, CancellationToken.None));

        Assert.False((await app.Service<TableServiceClient>().GetTableClient(StorageNames.SubmitsTable)
            .GetEntityIfExistsAsync<TableEntity>(call.JobId, "submit")).HasValue);
    }

    internal static UpstreamCall Call(string prompt, string model = "grok") => new(JobIds.New(DateTimeOffset.UtcNow, isPrivate: false),
        new GenerationRequest(prompt, "none", "1:1", model, null, false, null, null), 0, model);

    Task<UpstreamStep> SubmitAsync(UpstreamCall call, SubmitClaims? claims = null) => SubmitAsync(app.App.Services, call, claims);

    /// <summary>The Submit step of a running job that no cancel was asked for, run as the engine runs it.</summary>
    internal static async Task<UpstreamStep> SubmitAsync(IServiceProvider services, UpstreamCall call, SubmitClaims? claims = null)
    {
        var durable = new Mock<DurableTaskClient>("seam") { CallBase = true }; // a running job, no cancel
        durable.Setup(c => c.GetInstanceAsync(call.JobId, true, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new OrchestrationMetadata(GenerationOrchestrator.Name, call.JobId) { RuntimeStatus = OrchestrationRuntimeStatus.Running });
        var activities = claims is null
            ? ActivatorUtilities.CreateInstance<GenerationActivities>(services)
            : ActivatorUtilities.CreateInstance<GenerationActivities>(services, claims);
        return await activities.SubmitGeneration(call, durable.Object);
    }

    /// <summary>What a process stopped or killed during a submit's call leaves: the claim, its last beat long ago, no answer.</summary>
    internal static Task LeaveAStaleClaimAsync(TableServiceClient tables, string jobId) =>
        tables.GetTableClient(StorageNames.SubmitsTable).AddEntityAsync(new TableEntity(jobId, "submit")
        {
            ["ModelIndex"] = 0, ["BeatAt"] = DateTimeOffset.UtcNow - SubmitClaims.StaleAfter - TimeSpan.FromSeconds(1),
        });

    /// <summary>The system clock, which says when a wait on it begins.</summary>
    sealed class WaitWatchingClock : TimeProvider
    {
        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Waiting.TrySetResult();
            return System.CreateTimer(callback, state, dueTime, period);
        }
    }

    int UpstreamCalls(string prompt) => app.Provider.Invocations.Count(i =>
        i.Method.Name == nameof(IImageProvider.SubmitAsync) && i.Arguments[0] is ProviderCall { Input.Request.Prompt: var sent } && sent == prompt);
}

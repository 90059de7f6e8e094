using Microsoft.Extensions.Logging.Abstractions;
using Functions.Generation;
using Functions.Generation.Providers;
using Functions.Jobs;
using Functions.Storage;
using Functions.Tests.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace Functions.Tests.Jobs;

/// <summary>How long a key's binding waits for its job: 90 s after it was made, so a slow first schedule is not taken over.</summary>
public sealed class JobSubmitterTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    static readonly GenerationRequest Request = new("a lighthouse", "none", "1:1", "offline", null, false, null, null);
    readonly IdempotencyKeys _keys = new(storage.Table(StorageNames.IdempotencyTable), TimeProvider.System);
    readonly Mock<DurableTaskClient> _durable = new("test");

    JobSubmitter Submitter() => new(_keys, DurableJobsTests.NoCancels, Options.Create(new UpstreamOptions()), TimeProvider.System, NullLogger<JobSubmitter>.Instance);

    Task<Submission> SubmitAsync(string key) =>
        Submitter().SubmitAsync(_durable.Object, JobIds.New(DateTimeOffset.UtcNow, false), Request, [], new IdempotencyRequest(key, "body"), default);

    /// <summary>Schedule calls that never answer, cut off by their token as the gRPC client reports it; the task completes at the first call, with its token.</summary>
    TaskCompletionSource<CancellationToken> EngineNeverAnswers()
    {
        var called = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        _durable.Setup(d => d.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(),
                It.IsAny<CancellationToken>()))
            .Returns(async (TaskName _, object? _, StartOrchestrationOptions? _, CancellationToken token) =>
            {
                called.TrySetResult(token);
                try { await Task.Delay(Timeout.InfiniteTimeSpan, token); }
                catch (OperationCanceledException) { throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Cancelled, "cut off")); }
                return "never";
            });
        return called;
    }

    [Fact]
    public async Task A_scheduled_job_carries_its_plans_model_names_in_order_and_the_upstream_timings_in_force()
    {
        object? scheduled = null;
        _durable.Setup(d => d.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(),
                It.IsAny<CancellationToken>()))
            .Callback((TaskName _, object? input, StartOrchestrationOptions? _, CancellationToken _) => scheduled = input)
            .ReturnsAsync("scheduled");
        var upstream = new UpstreamOptions { DeadlineSeconds = 120, PollMinSeconds = 1.5, PollMaxSeconds = 8 };
        PlannedModel[] plan = [.. new[] { "first-model", "fallback-model" }.Select(m => new PlannedModel(m, new ModelEntry(), Mock.Of<IImageProvider>(), "token"))];

        await new JobSubmitter(_keys, DurableJobsTests.NoCancels, Options.Create(upstream), TimeProvider.System, NullLogger<JobSubmitter>.Instance)
            .SubmitAsync(_durable.Object, JobIds.New(DateTimeOffset.UtcNow, false), Request, plan, idempotency: null, default);

        var job = Assert.IsType<GenerationJob>(scheduled);
        Assert.Equal(["first-model", "fallback-model"], job.Models);
        Assert.Equal(new JobTimings(DeadlineSeconds: 120, PollMinSeconds: 1.5, PollMaxSeconds: 8), job.Timings);
    }

    [Fact]
    public async Task A_schedule_with_a_key_is_cut_off_a_third_of_the_keys_grace_before_another_request_may_take_the_key_over()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var called = EngineNeverAnswers();
        var submitter = new JobSubmitter(new IdempotencyKeys(storage.Table(StorageNames.IdempotencyTable), clock), DurableJobsTests.NoCancels, Options.Create(new UpstreamOptions()), clock, NullLogger<JobSubmitter>.Instance);

        var submit = submitter.SubmitAsync(_durable.Object, JobIds.New(clock.GetUtcNow(), false), Request, [],
            new IdempotencyRequest($"slow-schedule-{Guid.NewGuid():N}", "body"), default);
        var cutOff = await called.Task.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Advance(JobSubmitter.ScheduleBound - TimeSpan.FromSeconds(1));
        Assert.False(cutOff.IsCancellationRequested); // the fake clock fires a due cut-off within Advance itself
        Assert.False(submit.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(cutOff.IsCancellationRequested);

        var refused = await Assert.ThrowsAsync<JobUnconfirmedException>(() => submit.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("send the request again with the same Idempotency-Key", refused.Message);
        Assert.True(JobSubmitter.ScheduleGrace - JobSubmitter.ScheduleBound >= TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_schedule_without_a_key_is_cut_off_too_and_names_the_job_that_may_run()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var called = EngineNeverAnswers();
        var jobId = JobIds.New(clock.GetUtcNow(), false);

        var submit = new JobSubmitter(_keys, DurableJobsTests.NoCancels, Options.Create(new UpstreamOptions()), clock, NullLogger<JobSubmitter>.Instance).SubmitAsync(_durable.Object, jobId, Request, [], idempotency: null, default);
        await called.Task.WaitAsync(TimeSpan.FromSeconds(10));
        clock.Advance(JobSubmitter.ScheduleBound);

        var refused = await Assert.ThrowsAsync<JobUnconfirmedException>(() => submit.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains($"look at GET /api/v1/jobs/{jobId}", refused.Message);
    }

    [Theory]
    [InlineData(Grpc.Core.StatusCode.DeadlineExceeded)] // no answer in time
    [InlineData(Grpc.Core.StatusCode.Internal)] // the Durable extension's "Failed to start instance", whatever its cause
    [InlineData(Grpc.Core.StatusCode.Unknown)]
    public async Task A_schedule_the_engine_did_not_confirm_names_the_job_that_may_run(Grpc.Core.StatusCode failure)
    {
        _durable.Setup(d => d.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(),
                It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Grpc.Core.RpcException(new Grpc.Core.Status(failure, "no answer")));

        var refused = await Assert.ThrowsAsync<JobUnconfirmedException>(() =>
            Submitter().SubmitAsync(_durable.Object, JobIds.New(DateTimeOffset.UtcNow, false), Request, [], idempotency: null, default));

        Assert.Matches("job job_0[0-9a-f]+ in time, and it may still run: look at GET /api/v1/jobs/job_0", refused.Message);
    }

    [Fact]
    public async Task A_schedule_that_never_left_is_the_outage_itself()
    {
        // The local host's engine had not started: WaitForSidecarHandler refused the call before sending it.
        var notStarted = new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Internal, "Error starting gRPC call.",
            new HttpRequestException(HttpRequestError.ConnectionError, "The Durable backend has not started yet.", new TimeoutException())));
        _durable.Setup(d => d.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(),
                It.IsAny<CancellationToken>()))
            .ThrowsAsync(notStarted);

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            Submitter().SubmitAsync(_durable.Object, JobIds.New(DateTimeOffset.UtcNow, false), Request, [], idempotency: null, default));

        Assert.Same(notStarted, error);
    }

    [Fact]
    public async Task A_schedule_refused_by_a_lost_task_hub_is_the_outage_itself()
    {
        var lost = new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "gone"),
            new Grpc.Core.Metadata { { Functions.Jobs.JobEngineFaults.TaskHubLostTrailer, "true" } });
        _durable.Setup(d => d.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(),
                It.IsAny<CancellationToken>()))
            .ThrowsAsync(lost);

        var key = "lost-hub-" + Guid.NewGuid();

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => SubmitAsync(key));

        Assert.Same(lost, error); // not "unconfirmed, may still run"
        Assert.Null(await _keys.FindAsync(key, default)); // freed: its repeat makes a job at once, not after the 90 s grace
    }

    [Theory]
    [InlineData(false)] // the insert of a new key
    [InlineData(true)] // the takeover of an expired binding
    public async Task A_binding_whose_answer_was_lost_is_this_requests_own_and_its_job_is_scheduled_at_once(bool takeover)
    {
        var key = "lost-answer-" + Guid.NewGuid();
        if (takeover)
            await _keys.BindAsync(key, new KeyUse(JobIds.New(DateTimeOffset.UtcNow.AddDays(-2), false), "body", DateTimeOffset.UtcNow.AddDays(-2)),
                _ => Task.FromResult(true), default);
        // The write lands, its answer does not: the storage client's retry then meets the row this request wrote.
        var lost = 0;
        using var services = new RecordingTransport(_ => null, afterSending: request =>
            request.Uri.Path.Contains("/" + StorageNames.IdempotencyTable, StringComparison.Ordinal)
            && (takeover ? request.Method == Azure.Core.RequestMethod.Put : request.Method == Azure.Core.RequestMethod.Post)
            && Interlocked.CompareExchange(ref lost, 1, 0) == 0 ? RecordingTransport.Error(request, 503, "the answer was lost") : null).AppStorage(storage.ConnectionString);
        var keys = new IdempotencyKeys(services.GetRequiredKeyedService<Azure.Data.Tables.TableClient>(StorageNames.IdempotencyTable), TimeProvider.System);
        _durable.Setup(d => d.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync((OrchestrationMetadata?)null);
        _durable.Setup(d => d.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(),
            It.IsAny<CancellationToken>())).ReturnsAsync("scheduled");
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);

        var submission = await new JobSubmitter(keys, DurableJobsTests.NoCancels, Options.Create(new UpstreamOptions()), TimeProvider.System, NullLogger<JobSubmitter>.Instance)
            .SubmitAsync(_durable.Object, jobId, Request, [], new IdempotencyRequest(key, "body"), default).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, lost);
        Assert.Equal((jobId, false), (submission.Job.Id, submission.Replayed)); // was: 25 s of waiting for itself, then 409 in progress
        _durable.Verify(d => d.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(),
            It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task A_binding_older_than_the_grace_whose_job_is_gone_is_taken_over_at_once()
    {
        var key = "stale-" + Guid.NewGuid();
        await _keys.BindAsync(key, new KeyUse(JobIds.New(DateTimeOffset.UtcNow.AddSeconds(-91), false), "body", DateTimeOffset.UtcNow.AddSeconds(-91)),
            _ => Task.FromResult(true), default);

        var started = DateTime.UtcNow;
        var submission = await SubmitAsync(key);

        Assert.False(submission.Replayed);
        Assert.Equal(submission.Job.Id, (await _keys.FindAsync(key, default))?.JobId);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "a stale binding is not waited for");
    }

    [Fact]
    public async Task A_fresh_binding_whose_job_never_appears_answers_in_progress_with_the_time_left_not_a_hang()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var key = "orphaned-" + Guid.NewGuid();
        var keys = new IdempotencyKeys(storage.Table(StorageNames.IdempotencyTable), clock);
        await keys.BindAsync(key, new KeyUse(JobIds.New(clock.GetUtcNow(), false), "body", clock.GetUtcNow()), _ => Task.FromResult(true), default);
        _durable.Setup(d => d.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((OrchestrationMetadata?)null); // its request died before it scheduled the job

        var started = clock.GetUtcNow();
        var error = await Assert.ThrowsAsync<IdempotencyKeyInProgressException>(() => WithTimePassingAsync(clock, SubmitAsync(keys, clock, key)));

        Assert.InRange(clock.GetUtcNow() - started, TimeSpan.FromSeconds(24), TimeSpan.FromSeconds(60)); // was: the whole 90 s grace
        Assert.InRange(error.RetryAfter, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(66));
    }

    [Fact]
    public async Task A_fresh_binding_whose_job_appears_late_is_shared_not_taken_over()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var key = "fresh-" + Guid.NewGuid();
        var keys = new IdempotencyKeys(storage.Table(StorageNames.IdempotencyTable), clock);
        var earlier = JobIds.New(clock.GetUtcNow(), false);
        await keys.BindAsync(key, new KeyUse(earlier, "body", clock.GetUtcNow()), _ => Task.FromResult(true), default);
        var job = new GenerationJob(Request, ["offline"], new JobTimings(30, 2, 10));
        var instance = new OrchestrationMetadata(GenerationOrchestrator.Name, earlier)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Pending,
            DataConverter = JsonDataConverter.Default,
            SerializedInput = JsonDataConverter.Default.Serialize(job),
        };
        // The winner's schedule lands 4 s later (its first Durable call waited for the backend to start), within the 25 s a
        // request waits for it.
        var appears = clock.GetUtcNow().AddSeconds(4);
        _durable.Setup(d => d.GetInstanceAsync(earlier, It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => clock.GetUtcNow() < appears ? null : instance);

        var submission = await WithTimePassingAsync(clock, SubmitAsync(keys, clock, key));

        Assert.True(submission.Replayed);
        Assert.Equal(earlier, submission.Job.Id);
        Assert.Equal(earlier, (await keys.FindAsync(key, default))?.JobId);
        Assert.InRange(clock.GetUtcNow() - appears, TimeSpan.Zero, TimeSpan.FromSeconds(2)); // it looked again while it waited
    }

    Task<Submission> SubmitAsync(IdempotencyKeys keys, TimeProvider clock, string key) =>
        new JobSubmitter(keys, DurableJobsTests.NoCancels, Options.Create(new UpstreamOptions()), clock, NullLogger<JobSubmitter>.Instance)
            .SubmitAsync(_durable.Object, JobIds.New(clock.GetUtcNow(), false), Request, [], new IdempotencyRequest(key, "body"), default);

    /// <summary>The submit's waits on <paramref name="clock"/> pass a quarter second at a time, in a few milliseconds of real time each.</summary>
    static async Task<T> WithTimePassingAsync<T>(FakeTimeProvider clock, Task<T> submit)
    {
        for (var step = 0; step < 2_000 && !submit.IsCompleted; step++)
        {
            await Task.Delay(2);
            clock.Advance(TimeSpan.FromMilliseconds(250));
        }
        return await submit.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

using Functions.Generation;
using Functions.Jobs;
using Microsoft.DurableTask.Client;

namespace Functions.Tests.Jobs;

/// <summary>The deadline timer raced against the work: it ends the job as upstream_timeout and keeps nothing stored.</summary>
[RunsLong]
public sealed class OrchestrationDeadlineTests(OrchestrationHost host) : IClassFixture<OrchestrationHost>
{
    const string Submit = GenerationActivities.Submit, Check = GenerationActivities.Check, Store = GenerationActivities.Store,
        Discard = GenerationActivities.Discard;
    // Long enough that the first steps start before the deadline however busy the machine is (each test needs one in flight).
    static readonly JobTimings Timings = new(DeadlineSeconds: 2, PollMinSeconds: 0.05, PollMaxSeconds: 0.1);
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_model_still_pending_at_the_deadline_fails_the_job_as_upstream_timeout_and_its_stored_leftovers_are_discarded()
    {
        var steps = new FakeSteps { Submit = _ => FakeSteps.Pending("task-slow"), Check = call => FakeSteps.Pending(call.TaskId!) };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Timings, "slow-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, ended.RuntimeStatus);
        Assert.Equal(TimeSpan.FromSeconds(Timings.DeadlineSeconds), steps.Timers.First());
        Assert.NotEmpty(steps.CallsTo(Check)); // it was pending, and checked, when the deadline came
        Assert.DoesNotContain(Store, steps.Started);
        Assert.Equal(Discard, steps.Started[^1]);
        Assert.Equal(steps.JobId, steps.CallsTo(Discard).Single().JobId);
        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.UpstreamTimeout), (job.Status, job.ErrorCode));
        Assert.EndsWith("(Upstream:DeadlineSeconds): slow-model: unfinished at the deadline.", job.Error);
    }

    [Fact]
    public async Task The_deadlines_failure_still_says_why_the_earlier_models_were_left()
    {
        var steps = new FakeSteps
        {
            Submit = FakeSteps.FirstModelFailsThenPending("geminigen answered 503", "task-slow"),
            Check = call => FakeSteps.Pending(call.TaskId!),
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Timings, "first-model", "slow-model"));

        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.UpstreamTimeout), (job.Status, job.ErrorCode));
        Assert.EndsWith("(Upstream:DeadlineSeconds): first-model: geminigen answered 503; slow-model: unfinished at the deadline.", job.Error);
    }

    [Fact]
    public async Task A_store_running_at_the_deadline_is_awaited_and_then_discarded()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var steps = new FakeSteps
        {
            Submit = _ => FakeSteps.Ready(),
            Store = async _ => { await gate.Task; return FakeSteps.StoredStep("file-late"); },
        };

        var jobId = await host.StartAsync(steps, Timings, "slow-store-model");
        await steps.DeadlinePassed.Task.WaitAsync(Bound);
        gate.SetResult();
        var ended = await host.EndedAsync(jobId);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, ended.RuntimeStatus);
        Assert.Equal(GenerationErrors.UpstreamTimeout, JobRecord.From(ended).ErrorCode);
        Assert.Equal([Submit, $"{Submit} returned", Store, $"{Store} returned", Discard, $"{Discard} returned"], steps.Timeline);
    }

    [Fact]
    public async Task A_retryable_failure_after_the_deadline_starts_no_fallback_model()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var steps = new FakeSteps
        {
            Submit = async call =>
            {
                if (call.Model == "first-model") await gate.Task;
                return await FakeSteps.Failed(GenerationErrors.UpstreamRateLimited, "HTTP 429", retryable: true);
            },
        };

        var jobId = await host.StartAsync(steps, Timings, "first-model", "second-model");
        await steps.DeadlinePassed.Task.WaitAsync(Bound);
        gate.SetResult();
        var ended = await host.EndedAsync(jobId);

        var job = JobRecord.From(ended);
        Assert.Equal(GenerationErrors.UpstreamTimeout, job.ErrorCode);
        Assert.Equal([Submit, Discard], steps.Started); // no upstream task paid for after the job has ended
        Assert.EndsWith("(Upstream:DeadlineSeconds): first-model: HTTP 429.", job.Error); // the model that never started is not named
    }

    [Fact]
    public async Task A_step_cut_at_the_deadline_that_answers_before_the_deadline_timer_fires_ends_the_job_as_the_deadline_does()
    {
        var steps = new FakeSteps
        {
            DeadlineLag = TimeSpan.FromSeconds(5),
            Submit = async call =>
            {
                // The activity's own cut at the deadline (GenerationActivities.BeforeDeadlineAsync), a little after it.
                var left = call.Deadline!.Value - DateTime.UtcNow;
                if (left > TimeSpan.Zero) await Task.Delay(left);
                await Task.Delay(TimeSpan.FromMilliseconds(100));
                return await FakeSteps.Failed(GenerationErrors.UpstreamTimeout, "The job's deadline came while this call was under way.", retryable: false);
            },
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Timings, "cut-model"));

        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.UpstreamTimeout), (job.Status, job.ErrorCode));
        Assert.Contains("Upstream:DeadlineSeconds", job.Error);
        Assert.Equal([Submit, Discard], steps.Started);
    }

    [Fact]
    public async Task A_store_that_keeps_throwing_past_the_deadline_still_ends_the_job_as_upstream_timeout_and_discards()
    {
        FakeSteps steps = null!;
        steps = new FakeSteps
        {
            Submit = _ => FakeSteps.Ready(),
            Store = async _ =>
            {
                await steps.DeadlinePassed.Task;
                throw new InvalidOperationException("AccountKey=c2VjcmV0 rejected by storage");
            },
        };

        // The store's attempts (2, 4 and 8 s apart) outlast the deadline: about 16 s.
        var ended = await host.EndedAsync(await host.StartAsync(steps, Timings, "failing-store-model"));

        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.UpstreamTimeout), (job.Status, job.ErrorCode));
        Assert.DoesNotContain("AccountKey", job.Error);
        Assert.Equal([Submit, Store, Store, Store, Store, Discard], steps.Started);
    }

    [Fact]
    public async Task An_image_ready_after_the_deadline_is_not_stored()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var steps = new FakeSteps
        {
            Submit = _ => FakeSteps.Pending("task-late"),
            Check = async _ => { await gate.Task; return await FakeSteps.Ready(); },
        };

        var jobId = await host.StartAsync(steps, Timings, "late-model");
        await steps.DeadlinePassed.Task.WaitAsync(Bound);
        gate.SetResult();
        var ended = await host.EndedAsync(jobId);

        Assert.Equal(GenerationErrors.UpstreamTimeout, JobRecord.From(ended).ErrorCode);
        Assert.Equal([Submit, Check, Discard], steps.Started); // a history row that would show, then vanish, is never written
    }
}

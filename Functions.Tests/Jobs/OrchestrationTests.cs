using System.Collections.Concurrent;
using Functions.Generation;
using Functions.Jobs;
using Microsoft.DurableTask.Client;

namespace Functions.Tests.Jobs;

/// <summary>The orchestration's paths to an end of its own: an image from the first model or a fallback, or a failure.</summary>
public sealed class OrchestrationTests(OrchestrationHost host) : IClassFixture<OrchestrationHost>
{
    const string Submit = GenerationActivities.Submit, Check = GenerationActivities.Check, Store = GenerationActivities.Store;
    static readonly JobTimings Quick = new(DeadlineSeconds: 30, PollMinSeconds: 0.05, PollMaxSeconds: 0.05);

    [Fact]
    public async Task A_model_that_answers_at_submit_completes_the_job_with_the_image_it_stored()
    {
        var steps = new FakeSteps { Submit = _ => FakeSteps.Stored("file-sync") };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Quick, "sync-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, ended.RuntimeStatus);
        Assert.Equal("file-sync", ended.ReadOutputAs<JobResult>()!.FileId);
        var progress = ended.ReadCustomStatusAs<JobProgress>()!;
        Assert.Equal(("done", 1.0), (progress.Label, progress.Progress));
        Assert.NotNull(progress.StartedAt);
        Assert.Equal([Submit], steps.Started);
        Assert.Equal([TimeSpan.FromSeconds(30)], steps.Timers); // the deadline, and no check
        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Succeeded, "file-sync"), (job.Status, job.Result?.FileId));
    }

    [Fact]
    public async Task An_asynchronous_model_is_checked_with_growing_delays_and_reports_progress_until_its_image_is_stored()
    {
        var timings = new JobTimings(DeadlineSeconds: 30, PollMinSeconds: 0.1, PollMaxSeconds: 0.3);
        var seen = new ConcurrentQueue<JobProgress?>();
        FakeSteps steps = null!;
        steps = new FakeSteps
        {
            Submit = _ => FakeSteps.Pending("task-7", 0.1),
            Check = async call =>
            {
                seen.Enqueue(await host.ProgressAsync(call.JobId));
                var check = steps.CallsTo(Check).Count;
                return check < 5 ? await FakeSteps.Pending(call.TaskId!, 0.1 + 0.2 * check) : await FakeSteps.Ready();
            },
            Store = async store =>
            {
                seen.Enqueue(await host.ProgressAsync(store.Call.JobId));
                return await FakeSteps.Stored("file-async");
            },
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, timings, "async-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, ended.RuntimeStatus);
        Assert.Equal("file-async", ended.ReadOutputAs<JobResult>()!.FileId);
        Assert.Equal([Submit, Check, Check, Check, Check, Check, Store], steps.Started);
        Assert.All(steps.CallsTo(Check), c => Assert.Equal(("task-7", "async-model"), (c.Call!.TaskId, c.Call.Model)));
        // 0.1 s growing by half each time up to 0.3 s, as JobTimings.CheckDelay says.
        double[] delays = [0.1, 0.15, 0.225, 0.3, 0.3];
        Assert.Equal(delays, steps.Timers.Skip(1).Select(t => Math.Round(t.TotalSeconds, 3)));
        // Durable timers really wait: each check starts at least its delay after the step before it answered.
        var answered = steps.Calls.Where(c => c.Returned).Select(c => c.At).ToList();
        var checks = steps.CallsTo(Check).Select(c => c.At).ToList();
        for (var i = 0; i < checks.Count; i++)
            Assert.True(checks[i] - answered[i] >= TimeSpan.FromSeconds(delays[i] - 0.01), $"check {i + 1} came {checks[i] - answered[i]} after the step before it");
        Assert.Equal(["generating 0.1", "generating 0.3", "generating 0.5", "generating 0.7", "generating 0.9", "storing 0.99"],
            seen.Select(p => $"{p?.Label} {p?.Progress:0.##}"));
        Assert.Equal(("done", 1.0), (ended.ReadCustomStatusAs<JobProgress>()!.Label, ended.ReadCustomStatusAs<JobProgress>()!.Progress));
    }

    [Fact]
    public async Task A_retryable_failure_moves_to_the_next_model_whose_calls_say_why()
    {
        var steps = new FakeSteps
        {
            Submit = FakeSteps.FirstModelFailsThenPending("HTTP 503 from the upstream", "task-2"),
            Check = _ => FakeSteps.Ready(),
            Store = _ => FakeSteps.Stored("file-fallback"),
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Quick, "first-model", "second-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, ended.RuntimeStatus);
        Assert.Equal("file-fallback", ended.ReadOutputAs<JobResult>()!.FileId);
        Assert.Equal([Submit, Submit, Check, Store], steps.Started);
        var first = steps.Calls.First().Call!;
        Assert.Equal((0, "first-model", null), (first.ModelIndex, first.Model, first.FallbackReason));
        Assert.All(steps.Calls.Skip(1).Where(c => !c.Returned), c => Assert.Equal((1, "second-model", "first-model: HTTP 503 from the upstream"),
            (c.Call!.ModelIndex, c.Call.Model, c.Call.FallbackReason)));
    }

    [Fact]
    public async Task A_final_failure_ends_the_job_with_its_code_and_a_message_naming_the_model()
    {
        var steps = new FakeSteps { Submit = _ => FakeSteps.Failed(GenerationErrors.ContentFiltered, "The prompt was refused.", retryable: false) };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Quick, "first-model", "second-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, ended.RuntimeStatus);
        Assert.Equal([Submit], steps.Started); // the fallback is not tried
        var progress = ended.ReadCustomStatusAs<JobProgress>()!;
        Assert.Equal(("failed", GenerationErrors.ContentFiltered, "first-model: The prompt was refused."), (progress.Label, progress.ErrorCode, progress.Error));
        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.ContentFiltered, "first-model: The prompt was refused."), (job.Status, job.ErrorCode, job.Error));
    }

    [Fact]
    public async Task A_failure_status_stays_within_the_16_KB_the_Durable_extension_allows_however_long_the_reasons()
    {
        // Each upstream text capped (GenerationFailedException), six models of them joined, the whole capped again; emoji,
        // which the status's JSON escapes as 12 characters each (4,000 of them failed the job's every step).
        var reason = new GenerationFailedException(GenerationErrors.UpstreamError,
            "upstream says: " + string.Concat(Enumerable.Repeat("\U0001F600", 25_000))).Message;
        var steps = new FakeSteps { Submit = _ => FakeSteps.Failed(GenerationErrors.UpstreamError, reason, retryable: true) };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Quick, "m1", "m2", "m3", "m4", "m5", "m6"));

        Assert.InRange(reason.Length, GenerationFailedException.MaxMessageChars, GenerationFailedException.MaxMessageChars + 30);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, ended.RuntimeStatus);
        Assert.InRange(ended.SerializedCustomStatus!.Length * sizeof(char), 1, 16 * 1024);
        Assert.StartsWith("m1: upstream says: \U0001F600", ended.ReadCustomStatusAs<JobProgress>()!.Error);
        Assert.Equal(ended.ReadCustomStatusAs<JobProgress>()!.Error, JobRecord.From(ended).Error);
    }

    [Fact]
    public async Task An_upstreams_own_timeout_before_the_deadline_fails_the_job_as_that_models_failure_and_discards_nothing()
    {
        var steps = new FakeSteps { Submit = _ => FakeSteps.Failed(GenerationErrors.UpstreamTimeout, "No answer within 100 s.", retryable: true) };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Quick, "only-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, ended.RuntimeStatus);
        Assert.Equal([Submit], steps.Started); // not the deadline's end: nothing was stored to discard
        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.UpstreamTimeout, "only-model: No answer within 100 s."), (job.Status, job.ErrorCode, job.Error));
    }

    [Fact]
    public async Task When_every_model_fails_retryably_the_job_fails_with_the_last_code_and_every_reason_at_whichever_step()
    {
        var steps = new FakeSteps
        {
            Submit = call => call.Model switch
            {
                "first-model" => FakeSteps.Failed(GenerationErrors.UpstreamError, "HTTP 503", retryable: true),
                _ => FakeSteps.Pending("task-" + call.Model),
            },
            Check = call => call.Model == "second-model"
                ? FakeSteps.Failed(GenerationErrors.ProviderUnavailable, "circuit open", retryable: true)
                : FakeSteps.Ready(),
            Store = _ => FakeSteps.Failed(GenerationErrors.InvalidUpstreamImage, "not an image", retryable: true),
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Quick, "first-model", "second-model", "third-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, ended.RuntimeStatus);
        Assert.Equal([Submit, Submit, Check, Submit, Check, Store], steps.Started);
        Assert.Equal([null, "first-model: HTTP 503", "first-model: HTTP 503; second-model: circuit open"],
            steps.CallsTo(Submit).Select(c => c.Call!.FallbackReason));
        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.InvalidUpstreamImage, "first-model: HTTP 503; second-model: circuit open; third-model: not an image"),
            (job.Status, job.ErrorCode, job.Error));
    }
}

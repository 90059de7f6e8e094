using Functions.Generation;
using Functions.Jobs;
using Microsoft.DurableTask.Client;

namespace Functions.Tests.Jobs;

/// <summary>
/// An activity that throws (storage down, a bug; not a provider's failure) is retried with the orchestrator's policy:
/// 4 attempts, 2 s then doubling. These tests take that real back-off (about 16 s).
/// </summary>
[RunsLong]
public sealed class OrchestrationRetryTests(OrchestrationHost host) : IClassFixture<OrchestrationHost>
{
    const string Submit = GenerationActivities.Submit, Store = GenerationActivities.Store, Discard = GenerationActivities.Discard;
    static readonly JobTimings Patient = new(DeadlineSeconds: 60, PollMinSeconds: 0.05, PollMaxSeconds: 0.05);

    [Fact]
    public async Task A_store_that_throws_once_is_tried_again_two_seconds_later_and_the_job_succeeds()
    {
        var attempts = 0;
        var steps = new FakeSteps
        {
            Submit = _ => FakeSteps.Ready(),
            Store = _ => Interlocked.Increment(ref attempts) == 1 ? throw new InvalidOperationException("table storage unavailable") : FakeSteps.Stored("file-retried"),
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Patient, "async-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, ended.RuntimeStatus);
        Assert.Equal("file-retried", ended.ReadOutputAs<JobResult>()!.FileId);
        var stores = steps.CallsTo(Store);
        Assert.Equal(2, stores.Count);
        Assert.True(stores[1].At - stores[0].At >= TimeSpan.FromSeconds(1.99), $"retried after {stores[1].At - stores[0].At}");
    }

    [Fact]
    public async Task A_step_that_keeps_throwing_fails_the_job_after_four_attempts_without_its_error_text_and_discards()
    {
        var steps = new FakeSteps { Submit = _ => throw new InvalidOperationException("AccountKey=c2VjcmV0 rejected by storage") };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Patient, "first-model", "second-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, ended.RuntimeStatus);
        Assert.Equal([Submit, Submit, Submit, Submit, Discard], steps.Started); // the fallback model is not tried: the fault is not the upstream's
        var submits = steps.CallsTo(Submit);
        double[] backOff = [2, 4, 8];
        for (var i = 1; i < submits.Count; i++)
            Assert.True(submits[i].At - submits[i - 1].At >= TimeSpan.FromSeconds(backOff[i - 1] - 0.01), $"attempt {i + 1} came {submits[i].At - submits[i - 1].At} after the one before");
        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.AttemptsExhausted), (job.Status, job.ErrorCode));
        Assert.Contains(Submit, job.Error);
        Assert.DoesNotContain("AccountKey", job.Error);
    }

    [Fact]
    public async Task A_discard_that_keeps_throwing_still_ends_the_job_with_its_own_reason_not_the_engines_text()
    {
        var steps = new FakeSteps
        {
            Submit = _ => FakeSteps.Pending("task-1"),
            Check = _ => FakeSteps.Pending("task-1"),
            Discard = () => throw new InvalidOperationException("AccountKey=c2VjcmV0 rejected by storage"),
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, Patient with { DeadlineSeconds = 1 }, "async-model"));

        Assert.Equal(4, steps.CallsTo(Discard).Count);
        var job = JobRecord.From(ended);
        Assert.Equal((JobStatus.Failed, GenerationErrors.UpstreamTimeout), (job.Status, job.ErrorCode));
        Assert.DoesNotContain("AccountKey", job.Error);
        Assert.DoesNotContain(Discard, job.Error);
    }
}

using Functions.Generation;
using Functions.Jobs;
using Microsoft.DurableTask.Client;

namespace Functions.Tests.Jobs;

/// <summary>A DELETE terminates the instance: the orchestration stops wherever it is and starts nothing more.</summary>
public sealed class OrchestrationCancelTests(OrchestrationHost host) : IClassFixture<OrchestrationHost>
{
    const string Submit = GenerationActivities.Submit, Store = GenerationActivities.Store;
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    // The orchestration's wait: long enough that the termination lands within it even on a loaded machine.
    static readonly TimeSpan LongWait = TimeSpan.FromSeconds(4);

    // Until past the wait's end, counted from when the wait was seen to begin.
    static Task PastAsync(System.Diagnostics.Stopwatch waiting) =>
        Task.Delay(TimeSpan.FromTicks(Math.Max(0, (LongWait - waiting.Elapsed).Ticks)) + TimeSpan.FromSeconds(0.5));

    [Fact]
    public async Task A_job_terminated_while_it_waits_to_check_ends_canceled_and_checks_no_more()
    {
        var timings = new JobTimings(DeadlineSeconds: 30, PollMinSeconds: LongWait.TotalSeconds, PollMaxSeconds: LongWait.TotalSeconds);
        var steps = new FakeSteps { Submit = _ => FakeSteps.Pending("task-canceled"), Check = call => FakeSteps.Pending(call.TaskId!) };

        var jobId = await host.StartAsync(steps, timings, "async-model");
        await steps.WaitingToCheck.Task.WaitAsync(Bound);
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        await host.Client.TerminateInstanceAsync(jobId, JobRecord.CanceledMessage);
        var ended = await host.EndedAsync(jobId);
        await PastAsync(waiting); // had the timer woken the orchestration, a check would show

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, ended.RuntimeStatus);
        Assert.Equal(JobStatus.Canceled, JobRecord.From(ended).Status);
        Assert.Equal([Submit], steps.Started);
    }

    [Fact]
    public async Task A_job_whose_submit_found_a_cancel_submits_again_once_no_terminate_came_and_runs_on()
    {
        var submits = 0;
        var steps = new FakeSteps
        {
            Submit = _ => Interlocked.Increment(ref submits) == 1
                ? FakeSteps.Failed(GenerationErrors.Canceled, JobRecord.CanceledMessage, retryable: false)
                : FakeSteps.Stored("file-after-cancel"),
        };

        var ended = await host.EndedAsync(await host.StartAsync(steps, new JobTimings(30, 0.05, 0.05), "sync-model"));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, ended.RuntimeStatus);
        Assert.Equal([Submit, Submit], steps.Started);
        Assert.Equal([false, true], steps.CallsTo(Submit).Select(c => c.Call!.AfterCancel)); // the second sends no terminate of its own
        Assert.Equal(TimeSpan.FromSeconds(1), steps.Timers.Skip(1).Single()); // after the deadline's: the floor of the wait
    }

    [Fact]
    public async Task A_job_whose_submit_found_a_cancel_ends_canceled_when_the_terminate_comes_and_submits_no_more()
    {
        var steps = new FakeSteps { Submit = _ => FakeSteps.Failed(GenerationErrors.Canceled, JobRecord.CanceledMessage, retryable: false) };
        var timings = new JobTimings(DeadlineSeconds: 30, PollMinSeconds: LongWait.TotalSeconds, PollMaxSeconds: LongWait.TotalSeconds);

        var jobId = await host.StartAsync(steps, timings, "sync-model");
        await steps.WaitingToCheck.Task.WaitAsync(Bound); // its wait for the terminate has begun
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        await host.Client.TerminateInstanceAsync(jobId, JobRecord.CanceledMessage);
        var ended = await host.EndedAsync(jobId);
        await PastAsync(waiting); // had the wait woken the orchestration, a second Submit would show

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, ended.RuntimeStatus);
        Assert.Equal([Submit], steps.Started);
    }

    [Fact]
    public async Task A_job_terminated_while_it_stores_ends_canceled_and_its_finished_store_does_not_revive_it()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var steps = new FakeSteps
        {
            Submit = _ => FakeSteps.Ready(),
            Store = async _ => { entered.SetResult(); await gate.Task; return FakeSteps.StoredStep("file-canceled"); },
        };

        var jobId = await host.StartAsync(steps, new JobTimings(30, 0.05, 0.05), "async-model");
        await entered.Task.WaitAsync(Bound);
        await host.Client.TerminateInstanceAsync(jobId, JobRecord.CanceledMessage);
        var ended = await host.EndedAsync(jobId);
        gate.SetResult();
        await Eventually.HoldsAsync(() => Task.FromResult(steps.Timeline.Contains($"{Store} returned")), Bound);
        // A later job through the same engine: its start, two orchestration steps and its Submit come after the late result, one step away.
        // This in-process engine drops a message to an ended instance as it is queued, so here the checks below hold at once; they
        // guard the orchestrator against a host whose engine delivered it (DurableTask.AzureStorage discards it at delivery).
        var later = new FakeSteps { Submit = _ => FakeSteps.Stored("file-later") };
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.EndedAsync(await host.StartAsync(later, new JobTimings(30, 0.05, 0.05), "sync-model"))).RuntimeStatus);

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, ended.RuntimeStatus);
        var after = await host.Client.GetInstanceAsync(jobId, getInputsAndOutputs: true);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, after!.RuntimeStatus);
        Assert.DoesNotContain("file-canceled", after.SerializedOutput ?? "");
        Assert.Equal([Submit, Store], steps.Started); // the orchestration discards nothing itself: the canceler and the Store activity do
    }
}

using System.Collections.Concurrent;
using Functions.Generation;
using Functions.Jobs;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;

namespace Functions.Tests.Jobs;

/// <summary>
/// The real generation orchestrator in an in-process Durable engine (DurableTaskTestHost), with fake activities that
/// answer as each job's <see cref="FakeSteps"/> says. One engine serves every test of a class; jobs are told apart by id.
/// </summary>
public sealed class OrchestrationHost : IAsyncLifetime
{
    readonly ConcurrentDictionary<string, FakeSteps> jobs = new();
    DurableTaskTestHost? host;

    public DurableTaskClient Client => host!.Client;

    public async Task InitializeAsync() => host = await DurableTaskTestHost.StartAsync(registry =>
    {
        registry.AddOrchestratorFunc<GenerationJob, JobResult>(GenerationOrchestrator.Name,
            (context, job) => GenerationOrchestrator.Run(new WatchedContext(context, jobs[context.InstanceId]), job!));
        registry.AddActivityFunc<UpstreamCall, UpstreamStep>(GenerationActivities.Submit,
            (_, call) => Steps(call.JobId).RecordAsync(GenerationActivities.Submit, call.JobId, call, () => Steps(call.JobId).Submit(call)));
        registry.AddActivityFunc<UpstreamCall, UpstreamStep>(GenerationActivities.Check,
            (_, call) => Steps(call.JobId).RecordAsync(GenerationActivities.Check, call.JobId, call, () => Steps(call.JobId).Check(call)));
        registry.AddActivityFunc<StoreCall, UpstreamStep>(GenerationActivities.Store,
            (_, store) => Steps(store.Call.JobId).RecordAsync(GenerationActivities.Store, store.Call.JobId, store.Call, () => Steps(store.Call.JobId).Store(store)));
        registry.AddActivityFunc<string>(GenerationActivities.Discard,
            (_, jobId) => Steps(jobId).RecordAsync(GenerationActivities.Discard, jobId, null, Steps(jobId).Discard));
    }, new DurableTaskTestHostOptions { Port = FreePort.Next() });

    public async Task DisposeAsync()
    {
        if (host is not null) await host.DisposeAsync();
    }

    /// <summary>Schedules a job over <paramref name="models"/> (the plan, first the requested one) as the jobs API does.</summary>
    public async Task<string> StartAsync(FakeSteps steps, JobTimings timings, params string[] models)
    {
        jobs[steps.JobId] = steps;
        var request = new GenerationRequest("a lighthouse at dusk", "none", "1:1", models[0], null, false, null, null);
        await Client.ScheduleJobAsync(steps.JobId, new GenerationJob(request, models, timings), CancellationToken.None);
        return steps.JobId;
    }

    /// <summary>The instance once it has ended, with its input, output and custom status.</summary>
    public async Task<OrchestrationMetadata> EndedAsync(string jobId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await Client.WaitForInstanceCompletionAsync(jobId, getInputsAndOutputs: true, timeout.Token);
    }

    public async Task<JobProgress?> ProgressAsync(string jobId) =>
        (await Client.GetInstanceAsync(jobId, getInputsAndOutputs: true))?.ReadCustomStatusAs<JobProgress>();

    // A lookup by the id the activity was given: a call carrying another job's id (or none) finds nothing and fails.
    FakeSteps Steps(string jobId) => jobs[jobId];
}

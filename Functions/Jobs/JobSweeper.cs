using Functions.Generation;
using Functions.Hosting;
using Microsoft.Extensions.Options;

namespace Functions.Jobs;

/// <summary>
/// Ends jobs that outlived Worker:JobDeadlineSeconds, so none stays queued or running for ever, even when its message
/// is gone (a crash between the job's row and its message, or a message deleted by hand). A job's own delivery past
/// the deadline ends it the same way. Every instance sweeps; ETags make concurrent sweeps harmless.
/// </summary>
public sealed class JobSweeper(IServiceProvider services, IOptions<WorkerOptions> options, TimeProvider clock, ILogger<JobSweeper> logger)
    : BackgroundService
{
    public static string DeadlineReason(WorkerOptions options) =>
        $"The job did not finish within {options.JobDeadlineSeconds} s of its creation (Worker:JobDeadlineSeconds).";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(options.Value.SweepIntervalSeconds);
        try
        {
            while (true)
            {
                // Spread the instances' sweeps out rather than have them all query at once.
                await Task.Delay(interval * (0.75 + Random.Shared.NextDouble() / 2), clock, stoppingToken);
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Deadline sweep failed; it runs again in {Interval}", interval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>Fails every unfinished job created more than the deadline ago; returns how many it ended.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var jobs = services.GetRequiredService<JobStore>();
        var runner = services.GetRequiredService<GenerationRunner>();
        var completions = services.GetRequiredService<JobCompletions>();
        var now = clock.GetUtcNow();
        var ended = 0;
        foreach (var overdue in await jobs.ListUnfinishedAsync(now.AddSeconds(-options.Value.JobDeadlineSeconds), cancellationToken))
        {
            var failed = await jobs.UpdateAsync(overdue, j => j with
            {
                Status = JobStatus.Failed, ErrorCode = GenerationErrors.DeadlineExceeded, Error = DeadlineReason(options.Value),
                FinishedAt = now, Progress = 1, ProgressLabel = "failed",
            }, cancellationToken);
            if (failed is not { Status: JobStatus.Failed, ErrorCode: GenerationErrors.DeadlineExceeded }) continue;
            ended++;
            completions.Complete(failed);
            logger.LogWarning("Job {JobId} was still {Status} past its deadline; failed as deadline_exceeded", overdue.Id, overdue.Status.ToWire());
            if (overdue.StartedAt is not null) await runner.DiscardAsync(overdue.Id, cancellationToken);
        }
        return ended;
    }
}

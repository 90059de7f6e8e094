using Functions.Generation;
using Functions.Jobs;
using Microsoft.DurableTask.Client;

namespace Functions.Maintenance;

/// <summary>
/// The timer that forgets ended jobs past <see cref="GenerationOptions.JobRetentionDays"/>, as a DELETE of each would: the
/// job engine's instance, history and large-payload blobs, the job's cancel record and its idempotency key go; its image
/// stays. And idempotency keys whose binding has lapsed, whatever the retention. Idempotent, so two instances that both
/// run it do no harm.
/// </summary>
public sealed class PurgeEndedJobs(EndedJobs jobs, IdempotencyKeys keys, IOptions<GenerationOptions> options, TimeProvider clock,
    ILogger<PurgeEndedJobs> logger)
{
    /// <summary>Daily, at 03:43 UTC (NCRONTAB with seconds).</summary>
    public const string Schedule = "0 43 3 * * *";

    [Function(nameof(PurgeEndedJobs))]
    public async Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        // The canceled jobs a DELETE forgot kept their instance for the start the engine might still hold, never a day: whatever the retention.
        var dayBefore = clock.GetUtcNow() - TimeSpan.FromDays(1);
        var (purged, purgeFailed) = await jobs.PurgeForgottenBeforeAsync(durable, dayBefore, cancellationToken);
        logger.LogInformation("Job purge: {Count} canceled jobs forgotten by a DELETE before {CreatedBefore:u} purged, {Failed} failed", purged, dayBefore, purgeFailed);
        var lapsedBefore = clock.GetUtcNow() - IdempotencyKeys.Lifetime;
        var swept = await keys.SweepAsync(lapsedBefore, cancellationToken);
        logger.LogInformation("Job purge: {Count} idempotency keys bound before {BoundBefore:u} (lapsed) removed", swept, lapsedBefore);
        if (options.Value.JobRetentionDays == 0) return;
        var createdBefore = clock.GetUtcNow() - TimeSpan.FromDays(options.Value.JobRetentionDays);
        var (forgotten, failed) = await jobs.ForgetEndedBeforeAsync(durable, createdBefore, cancellationToken);
        logger.LogInformation("Job purge: {Count} ended jobs created before {CreatedBefore:u} forgotten, {Failed} failed", forgotten, createdBefore, failed);
    }
}

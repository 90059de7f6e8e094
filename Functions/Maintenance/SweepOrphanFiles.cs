using Microsoft.DurableTask.Client;

namespace Functions.Maintenance;

/// <summary>The timer that runs <see cref="OrphanFiles"/>: a sweep is idempotent, so two instances that both run it do no harm.</summary>
public sealed class SweepOrphanFiles(OrphanFiles orphans)
{
    /// <summary>Hourly, at minute 17 of the hour (NCRONTAB with seconds, UTC).</summary>
    public const string Schedule = "0 17 * * * *";

    [Function(nameof(SweepOrphanFiles))]
    public Task RunAsync([TimerTrigger(Schedule)] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken) =>
        orphans.SweepAsync(durable, cancellationToken);
}

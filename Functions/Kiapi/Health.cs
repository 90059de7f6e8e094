using Azure.Data.Tables;
using Azure.Storage.Queues;
using Functions.Hosting;
using Functions.Kioai;
using Functions.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kiapi;

public static class Health
{
    static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(3);
    const double BytesPerGb = 1024.0 * 1024 * 1024;

    /// <summary>
    /// The kiapi HealthResponse: ok and 200 while storage answers (503 "degraded" when it does not), warm once the
    /// storage resources exist, queue_len the jobs queue's approximate length. There are no resident models, so memory
    /// reports this process: its working set against the memory the runtime may use.
    /// </summary>
    public static async Task<JsonHttpResult<KiapiHealth>> Handle(
        [FromKeyedServices(StorageNames.JobsQueue)] QueueClient queue, [FromKeyedServices(StorageNames.SettingsTable)] TableClient settings,
        StorageBootstrap bootstrap, ILogger<KiapiHealth> logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StorageTimeout);
        var memory = new KiapiMemory([], Environment.WorkingSet / BytesPerGb, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / BytesPerGb);
        try
        {
            await bootstrap.EnsureCreatedAsync(timeout.Token);
            var probe = Healthz.ProbeStorageAsync(settings, timeout.Token);
            var length = (await queue.GetPropertiesAsync(timeout.Token)).Value.ApproximateMessagesCount;
            await probe;
            return TypedResults.Json(new KiapiHealth("ok", true, length, "ok", memory), AppJsonContext.Api.KiapiHealth);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Health: storage did not answer: {Reason}", e.Message);
            return TypedResults.Json(new KiapiHealth("degraded", bootstrap.IsReady, 0, "unavailable", memory), AppJsonContext.Api.KiapiHealth,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;
using Functions.Hosting;
using Functions.Jobs;
using Microsoft.DurableTask.Client;

namespace Functions.Health;

/// <summary>Health in the two surfaces' shapes: kioai's /api/healthz and kiapi's /api/health; both answer HEAD without a body.</summary>
public sealed class HealthFunctions(StorageProbe storage, ILogger<HealthFunctions> logger)
{
    static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(3);
    const double BytesPerGb = 1024.0 * 1024 * 1024;
    const int QueueCountLimit = 1000;

    /// <summary>200 {"status":"ok"} when storage answers within a few seconds; 503 {"status":"unavailable"} when it does not. HEAD: the same, no body.</summary>
    [Function("Healthz")]
    public async Task<JsonHttpResult<HealthStatus>> Healthz(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.Healthz)] HttpRequest request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StorageTimeout);
        try
        {
            await storage.ProbeAsync(timeout.Token);
            return TypedResults.Json(new HealthStatus("ok"), AppJsonContext.Api.HealthStatus);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Health check: storage did not answer: {Reason}", ReasonOf(e));
            SayWhenToLookAgain(request);
            return TypedResults.Json(new HealthStatus("unavailable"), AppJsonContext.Api.HealthStatus,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>A 503 says when another look is worth it (RFC 9110), as the service's other outage answers do.</summary>
    static void SayWhenToLookAgain(HttpRequest request) =>
        request.HttpContext.Response.Headers.RetryAfter = SurfaceErrors.OutageRetryAfter;

    /// <summary>Why a part did not answer; a call cut by the timeout is canceled (a canceled task holds no exception).</summary>
    static string ReasonOf(Exception? error) =>
        error is null or OperationCanceledException ? $"no answer within {StorageTimeout.TotalSeconds:0} s" : error.Message;

    /// <summary>
    /// The kiapi HealthResponse: ok and 200 while storage answers (503 "degraded" when it does not), warm once the
    /// storage resources exist, queue_len the public jobs not yet started (counted up to 1,000). There are no resident
    /// models, so memory reports this process: its working set against the memory the runtime may use. HEAD: no body.
    /// </summary>
    [Function("Health")]
    public async Task<JsonHttpResult<KiapiHealth>> Health(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.Health)] HttpRequest request,
        [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StorageTimeout);
        var memory = new KiapiMemory([], Environment.WorkingSet / BytesPerGb, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / BytesPerGb);
        var probe = storage.ProbeAsync(timeout.Token);
        var queued = durable.CountQueuedAsync(QueueCountLimit, timeout.Token);
        try
        {
            await Task.WhenAll(probe, queued);
            return TypedResults.Json(new KiapiHealth("ok", true, queued.Result, "ok", memory), AppJsonContext.Api.KiapiHealth);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Both have ended here: say which one failed, and report storage as it is.
            var storageUp = probe.IsCompletedSuccessfully;
            logger.LogWarning("Health: {Part} did not answer: {Reason}", storageUp ? "the job engine" : "storage",
                ReasonOf((storageUp ? queued.Exception : probe.Exception)?.GetBaseException()));
            SayWhenToLookAgain(request);
            return TypedResults.Json(new KiapiHealth("degraded", storage.IsReady, 0, storageUp ? "ok" : "unavailable", memory),
                AppJsonContext.Api.KiapiHealth, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

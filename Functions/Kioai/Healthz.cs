using Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace Functions.Kioai;

public sealed class Healthz(StorageProbe storage, ILogger<Healthz> logger)
{
    static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(3);

    /// <summary>200 {"status":"ok"} when storage answers within a few seconds; 503 {"status":"unavailable"} when it does not. HEAD: the same, no body.</summary>
    [Function(nameof(Healthz))]
    public async Task<JsonHttpResult<HealthStatus>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "healthz")] HttpRequest request, CancellationToken cancellationToken)
    {
        request.OmitBodyOfHead();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StorageTimeout);
        try
        {
            await storage.ProbeAsync(timeout.Token);
            return TypedResults.Json(new HealthStatus("ok"), AppJsonContext.Api.HealthStatus);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Health check: storage did not answer: {Reason}", e.Message);
            return TypedResults.Json(new HealthStatus("unavailable"), AppJsonContext.Api.HealthStatus,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}

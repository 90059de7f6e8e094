using Functions.Hosting;
using Functions.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class Healthz
{
    static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(3);

    /// <summary>200 {"status":"ok"} when storage answers within a few seconds; 503 {"status":"unavailable"} when it does not.</summary>
    public static async Task<JsonHttpResult<HealthStatus>> Handle(TableStorage tables, ILogger<HealthStatus> logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StorageTimeout);
        try
        {
            await tables.GetAsync(StorageNames.SettingsTable, "health", "probe", cancellationToken: timeout.Token);
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

using Azure.Data.Tables;
using Functions.Hosting;
using Functions.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class Healthz
{
    static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(3);

    /// <summary>200 {"status":"ok"} when storage answers within a few seconds; 503 {"status":"unavailable"} when it does not.</summary>
    public static async Task<JsonHttpResult<HealthStatus>> Handle(
        [FromKeyedServices(StorageNames.SettingsTable)] TableClient settings, ILogger<HealthStatus> logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StorageTimeout);
        try
        {
            await ProbeStorageAsync(settings, timeout.Token);
            return TypedResults.Json(new HealthStatus("ok"), AppJsonContext.Api.HealthStatus);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Health check: storage did not answer: {Reason}", e.Message);
            return TypedResults.Json(new HealthStatus("unavailable"), AppJsonContext.Api.HealthStatus,
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>One point read of a row that need not exist: it proves storage answers and signs our requests.</summary>
    internal static Task ProbeStorageAsync(TableClient settings, CancellationToken cancellationToken) =>
        settings.GetEntityIfExistsAsync<TableEntity>("health", "probe", cancellationToken: cancellationToken);
}

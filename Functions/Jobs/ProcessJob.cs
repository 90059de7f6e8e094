using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Jobs;

/// <summary>What the Functions host posts to a custom handler for a non-HTTP trigger: the binding data and the trigger metadata.</summary>
public sealed record HostInvocation(
    [property: JsonPropertyName("Data")] Dictionary<string, JsonElement>? Data,
    [property: JsonPropertyName("Metadata")] Dictionary<string, JsonElement>? Metadata);

/// <summary>What the host expects back: output bindings (none here), log lines for the invocation, a return value.</summary>
public sealed record HostInvocationResult(
    [property: JsonPropertyName("Outputs")] Dictionary<string, string> Outputs,
    [property: JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
    [property: JsonPropertyName("ReturnValue")] string? ReturnValue);

/// <summary>
/// The queue-triggered function under the Functions host: the host takes a message off generation-jobs and posts it
/// here (POST /ProcessJob, the function's name). The same <see cref="JobWorker"/> as the in-process listener runs it.
/// 200 means done (the host deletes the message); any other status fails the invocation, so the host makes the
/// message visible again, and after host.json's maxDequeueCount moves it to generation-jobs-poison.
/// </summary>
public static class ProcessJob
{
    public const string FunctionName = "ProcessJob";
    /// <summary>The queueTrigger binding's name in Triggers/ProcessJob/function.json.</summary>
    public const string BindingName = "message";

    public static async Task<Results<JsonHttpResult<HostInvocationResult>, NotFound>> Handle(
        HttpRequest request, IConfiguration configuration, JobWorker worker, ILogger<JobWorker> logger, CancellationToken cancellationToken)
    {
        if (!ListenAddress.UnderFunctionsHost(configuration)) return TypedResults.NotFound(); // only the host calls this

        HostInvocation? invocation;
        try
        {
            invocation = await JsonSerializer.DeserializeAsync(request.Body, AppJsonContext.Default.HostInvocation, cancellationToken);
        }
        catch (JsonException e)
        {
            return Answer(StatusCodes.Status400BadRequest, $"The invocation body is not JSON: {e.Message}");
        }
        if (invocation?.Data?.GetValueOrDefault(BindingName) is not { } data || MessageText(data) is not { } message)
            return Answer(StatusCodes.Status400BadRequest, $"The invocation has no '{BindingName}' in Data.");
        var dequeueCount = invocation.Metadata?.FirstOrDefault(m => m.Key.Equals("DequeueCount", StringComparison.OrdinalIgnoreCase)).Value
            is { ValueKind: not JsonValueKind.Undefined } count ? DequeueCountOf(count) : 1;

        var outcome = await worker.ProcessAsync(message, dequeueCount, cancellationToken);
        logger.LogInformation("Queue message {Message} (delivery {DequeueCount}) ended {Outcome}", message, dequeueCount, outcome);
        return outcome == WorkOutcome.Done
            ? Answer(StatusCodes.Status200OK, $"{message}: done")
            : Answer(StatusCodes.Status500InternalServerError, $"{message}: {outcome} on delivery {dequeueCount}; the host will redeliver or poison it");
    }

    // The host passes a queue message as a JSON string; a message that is itself JSON may arrive as that JSON.
    static string? MessageText(JsonElement data) => data.ValueKind switch
    {
        JsonValueKind.String => data.GetString() is { Length: > 0 } text ? text.Trim('"') : null,
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        _ => data.GetRawText(),
    };

    static long DequeueCountOf(JsonElement count) => count.ValueKind switch
    {
        JsonValueKind.Number when count.TryGetInt64(out var n) => n,
        JsonValueKind.String when long.TryParse(count.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
        _ => 1,
    };

    static JsonHttpResult<HostInvocationResult> Answer(int status, string log) =>
        TypedResults.Json(new HostInvocationResult([], [log], null), AppJsonContext.Default.HostInvocationResult, statusCode: status);
}

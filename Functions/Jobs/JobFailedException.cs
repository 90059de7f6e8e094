using System.Text;
using System.Text.Json;
using Microsoft.DurableTask.Converters;

namespace Functions.Jobs;

/// <summary>
/// What a failed job's orchestration throws: its message is the job's failed status (<see cref="JobProgress"/>: code,
/// reason, start), the same as the custom status it sets just before. DurableTask.AzureStorage writes a step's history
/// first and the instance's row after it; a process that dies in between leaves the row running, and the next message
/// of the instance makes the engine write the row again from the history alone (IsExecutableInstanceAsync), which has
/// the failure's text as the output and no custom status. <see cref="JobRecord.From"/> then reads the status here.
/// </summary>
public sealed class JobFailedException(JobProgress status) : Exception(JsonDataConverter.Default.Serialize(status))
{
    // How the status begins as serialized (JsonDataConverter.Default: property names as declared, no spaces).
    const string Start = "{\"Label\":\"failed\"";

    /// <summary>
    /// The failed status in an orchestration's failure text (its failure details' message, or its output where the
    /// store kept only that), which a host may quote as a JSON string or put words before; null if it holds none.
    /// </summary>
    public static JobProgress? StatusIn(string? text)
    {
        try
        {
            if (text is ['"', ..]) text = Unquoted(text);
            var at = text?.IndexOf(Start, StringComparison.Ordinal) ?? -1;
            if (at < 0) return null;
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text![at..])); // one value: what follows it is not read
            return JsonSerializer.Deserialize<JobProgress>(ref reader) is { RecordsAFailure: true } status ? status : null;
        }
        catch (JsonException) { return null; }
    }

    // A text quoted as one JSON string, as a host may store it; else the text as it is.
    static string Unquoted(string text)
    {
        try { return JsonSerializer.Deserialize<string>(text) ?? text; }
        catch (JsonException) { return text; }
    }
}

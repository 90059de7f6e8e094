using System.Text.Encodings.Web;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json;
using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;
using Functions.Generation;
using Functions.Jobs;

namespace Functions.Hosting;

/// <summary>Source-generated JSON for every type the app writes or stores: no reflection at startup.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(SuccessResponse))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(TokenStatusResponse))]
[JsonSerializable(typeof(GenerateImageResponse))]
[JsonSerializable(typeof(ImageHistoryResponse))]
[JsonSerializable(typeof(GenerationRequest))]
[JsonSerializable(typeof(JobResult))]
[JsonSerializable(typeof(KiapiJob))]
[JsonSerializable(typeof(KiapiError))]
[JsonSerializable(typeof(KiapiList<KiapiJob>))]
[JsonSerializable(typeof(KiapiJobDeleted))]
[JsonSerializable(typeof(KiapiFile))]
[JsonSerializable(typeof(KiapiList<KiapiFile>))]
[JsonSerializable(typeof(KiapiFileDeleted))]
[JsonSerializable(typeof(KiapiHealth))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(KiapiValidationError))]
[JsonSerializable(typeof(JsonObject))]
public sealed partial class AppJsonContext : JsonSerializerContext
{
    /// <summary>For responses: quotes and plus signs stay readable in messages (still valid, safely escaped JSON).</summary>
    public static AppJsonContext Api { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

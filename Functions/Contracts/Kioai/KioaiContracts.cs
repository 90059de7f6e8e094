using System.Text.Json.Serialization;

namespace Functions.Contracts.Kioai;

// The kioai API's schemas (specs/kioai-api.openapi.yaml), field for field; serialized camelCase. An optional field
// without a value is left out, never written as null: the contract is OpenAPI 3.1, where "nullable" means nothing.

public sealed record ErrorResponse(string Error, string Message);

public sealed record SuccessResponse(bool Success, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message = null);

public sealed record HealthStatus(string Status);

/// <summary>Token is absent (not null) when none is set: the contract types it as a string.</summary>
public sealed record TokenStatusResponse(bool Configured, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Token);

public sealed record GenerateImageResponse(
    long Id, string ImageUrl, string Prompt, string Style, string AspectRatio, string Model, DateTime CreatedAt, ApiDebugInfo ApiDebug);

public sealed record ImageRecord(
    long Id, string ImageUrl, string Prompt, string Style, string AspectRatio, string Model, bool IsPrivate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? UserId, DateTime CreatedAt);

public sealed record ImageHistoryResponse(IReadOnlyList<ImageRecord> Images, long Total);

using System.Text.Json.Serialization;

namespace Functions.Contracts.Kioai;

// The kioai API's schemas (specs/kioai-api.openapi.yaml), field for field; serialized camelCase. A field the contract
// types as a string without "nullable" is left out when it has no value, never written as null.

public sealed record ErrorResponse(string Error, string Message);

public sealed record SuccessResponse(bool Success, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message = null);

public sealed record HealthStatus(string Status);

/// <summary>Token is absent (not null) when none is set: the contract types it as a string.</summary>
public sealed record TokenStatusResponse(bool Configured, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Token);

public sealed record SetTokenBody(string? Token);

public sealed record GenerateImageResponse(
    long Id, string ImageUrl, string Prompt, string Style, string AspectRatio, string Model, DateTime CreatedAt, ApiDebugInfo ApiDebug);

public sealed record ImageRecord(
    long Id, string ImageUrl, string Prompt, string Style, string AspectRatio, string Model, bool IsPrivate, long? UserId, DateTime CreatedAt);

public sealed record ImageHistoryResponse(IReadOnlyList<ImageRecord> Images, long Total);

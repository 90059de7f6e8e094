namespace Functions.Contracts.Kioai;

/// <summary>
/// The kioai surface's error codes (ErrorResponse.error) for requests it refuses or cannot serve; README lists each one.
/// The codes a generation or a job ends with, and their statuses, are <see cref="Generation.GenerationErrors"/>.
/// </summary>
public static class KioaiErrorCodes
{
    // The request's body and headers (400 unless said).
    public const string InvalidJson = "invalid_json";
    public const string TooManyValues = "too_many_values";
    public const string BodyTooLarge = "body_too_large";
    public const string UnsupportedContentType = "unsupported_content_type"; // 415
    public const string UnsupportedCharset = "unsupported_charset";
    public const string UnsupportedContentEncoding = "unsupported_content_encoding";
    public const string BadRequest = "bad_request";
    public const string RequestTimeout = "request_timeout"; // 408
    public const string InvalidIdempotencyKey = "invalid_idempotency_key";

    // A field's value.
    public const string InvalidType = "invalid_type";
    public const string InvalidValue = "invalid_value";
    public const string MissingPrompt = "missing_prompt";
    public const string PromptTooLong = "prompt_too_long";
    public const string ResolutionNotSupported = "resolution_not_supported";
    public const string MissingToken = "missing_token";
    public const string TokenTooLong = "token_too_long";
    public const string InvalidToken = "invalid_token";

    // The history's query.
    public const string InvalidLimit = "invalid_limit";
    public const string InvalidOffset = "invalid_offset";

    // The reference image.
    public const string ReferenceNotSupported = "reference_not_supported";
    public const string ConflictingReference = "conflicting_reference";
    public const string InvalidBase64 = "invalid_base64";
    public const string ReferenceImageTooLarge = "reference_image_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string MediaTypeMismatch = "media_type_mismatch";
    public const string InvalidImage = "invalid_image";

    // Who may ask, and what there is.
    public const string Unauthorized = "unauthorized"; // 401
    public const string NotFound = "not_found"; // 404
    public const string MethodNotAllowed = "method_not_allowed"; // 405
    /// <summary>A status the service sends with no code of its own (none today: the catch-all of the error page).</summary>
    public const string Error = "error";

    // A generate request whose job changed under it (409).
    public const string JobCanceled = "job_canceled";
    public const string JobDeleted = "job_deleted";
    public const string ImageDeleted = "image_deleted";
    public const string IdempotencyKeyReused = "idempotency_key_reused";
    public const string IdempotencyKeyInProgress = "idempotency_key_in_progress";

    // The service (5xx): a passing outage or load answers 503 with Retry-After, a bug 500.
    public const string StorageUnavailable = "storage_unavailable";
    public const string JobsUnavailable = "jobs_unavailable";
    public const string ServerBusy = "server_busy";
    public const string InternalError = "internal_error";
}

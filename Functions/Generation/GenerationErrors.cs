namespace Functions.Generation;

/// <summary>The error codes a job can end with, and the HTTP status each means to a client: whose fault it was.</summary>
public static class GenerationErrors
{
    public const string TokenNotConfigured = "token_not_configured";
    public const string ReferenceNotFound = "reference_not_found";
    public const string ContentFiltered = "content_filtered";
    public const string UpstreamRejected = "upstream_rejected";
    public const string UpstreamUnauthorized = "upstream_unauthorized";
    public const string UpstreamNoCredit = "upstream_no_credit";
    public const string UpstreamRateLimited = "upstream_rate_limited";
    public const string UpstreamError = "upstream_error";
    public const string UpstreamTimeout = "upstream_timeout";
    public const string ProviderUnavailable = "provider_unavailable";
    public const string InvalidUpstreamImage = "invalid_upstream_image";
    // The pipeline's own ends, not a provider's.
    public const string AttemptsExhausted = "attempts_exhausted";
    /// <summary>A failure with no code of its own: the engine ended the job; its text is never shown (it may quote storage).</summary>
    public const string GenerationFailed = "generation_failed";
    public const string GenerationFailedMessage = "The generation failed.";
    public const string Canceled = "canceled";
    /// <summary>An upstream call cut under way by its job's cancel: it may have been paid for, so it is never sent again.</summary>
    public const string StoppedByCancel = "stopped_by_cancel";
    /// <summary>A submit cut off under way by the service (it stopped, or failed once the call was sent): never sent again.</summary>
    public const string SubmitInterrupted = "submit_interrupted";

    /// <summary>How loud a generation's failure is logged: an upstream's or the service's fault warns; the client's own (4xx) informs.</summary>
    public static LogLevel LogLevelOf(string? code) => StatusOf(code) >= StatusCodes.Status500InternalServerError ? LogLevel.Warning : LogLevel.Information;

    public static int StatusOf(string? code) => code switch
    {
        TokenNotConfigured or ReferenceNotFound or ContentFiltered or UpstreamRejected => StatusCodes.Status400BadRequest,
        StoppedByCancel => StatusCodes.Status409Conflict, // as a canceled job's job_canceled
        UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        ProviderUnavailable or SubmitInterrupted => StatusCodes.Status503ServiceUnavailable,
        UpstreamUnauthorized or UpstreamNoCredit or UpstreamRateLimited or UpstreamError or InvalidUpstreamImage => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };
}

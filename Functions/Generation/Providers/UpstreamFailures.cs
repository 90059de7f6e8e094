using System.Net;

namespace Functions.Generation.Providers;

/// <summary>The failure rules every upstream shares; each provider adds its own error codes before falling back on these.</summary>
public static class UpstreamFailures
{
    /// <summary>"provider answered 403 code: message", leaving out what the answer did not say.</summary>
    public static string Reason(string provider, HttpStatusCode status, string? code, string? message) =>
        $"{provider} answered {(int)status}" + (code is null ? "" : $" {code}") + (message is null ? "" : $": {message}");

    /// <summary>
    /// By HTTP status: 429, 5xx, a redirect, 404, 408 and a final 1xx are worth a fallback; 401/403 (credentials), 402
    /// (credit) and other 4xx end the job. A 404 is no fault of the client's: the catalog names an endpoint or model the upstream lacks.
    /// </summary>
    public static GenerationFailedException FromStatus(string provider, HttpStatusCode status, string? code, string? message)
    {
        var reason = Reason(provider, status, code, message);
        return (int)status switch
        {
            401 or 403 => new(GenerationErrors.UpstreamUnauthorized, reason),
            402 => new(GenerationErrors.UpstreamNoCredit, reason),
            429 => new(GenerationErrors.UpstreamRateLimited, reason, retryable: true),
            >= 300 and < 400 => new(GenerationErrors.UpstreamError, reason + " (a redirect, not followed: check the provider's base URL)", retryable: true),
            404 => new(GenerationErrors.UpstreamError, reason + " (no such endpoint or model there: check the catalog's Endpoint and UpstreamModel)", retryable: true),
            408 => new(GenerationErrors.UpstreamTimeout, reason, retryable: true),
            >= 500 => new(GenerationErrors.UpstreamError, reason, retryable: true),
            >= 400 => new(GenerationErrors.UpstreamRejected, reason),
            // A 1xx as the final answer (101 Switching Protocols): nothing the request asked for, so the upstream's fault.
            _ => new(GenerationErrors.UpstreamError, reason, retryable: true),
        };
    }

    /// <summary>The OpenAI error codes of an account out of credit: final whatever the status (a 429 among them), so not retried.</summary>
    public static bool IsOutOfCredit(string? openAiCode) => openAiCode is "insufficient_quota" or "billing_hard_limit_reached";

    public static GenerationFailedException Malformed(string provider, string what) =>
        new(GenerationErrors.UpstreamError, $"{provider} answered with {what}.", retryable: true);
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Functions.Generation.Providers;

/// <summary>
/// Sends upstream API calls through one Polly pipeline per provider and kind of call (<see cref="UpstreamCallKind"/>): a
/// time bound per attempt (the body included), retries with jitter that honour Retry-After, and a circuit breaker. Transport trouble comes out as a retryable
/// <see cref="GenerationFailedException"/>; an HTTP error status comes out as a response, for the provider to read.
/// </summary>
public sealed class UpstreamHttp(IOptions<UpstreamOptions> options, ILogger<UpstreamHttp> logger) : IDisposable
{
    readonly UpstreamOptions _options = options.Value;

    // Polly bounds each attempt, so the client never times out on its own. No redirects: .NET strips only Authorization
    // when it follows one, so geminigen's x-api-key would go to whatever host a 3xx names.
    readonly HttpClient http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
        { Timeout = Timeout.InfiniteTimeSpan };
    readonly ConcurrentDictionary<(string Provider, UpstreamCallKind Kind), ResiliencePipeline<UpstreamResponse>> _pipelines = new();

    /// <summary>One call through the pipeline of the provider and the call's <paramref name="kind"/>.</summary>
    public async Task<UpstreamResponse> SendAsync(string provider, Func<HttpRequestMessage> request, CancellationToken cancellationToken,
        UpstreamCallKind kind = UpstreamCallKind.Generate)
    {
        var pipeline = _pipelines.GetOrAdd((provider, kind), key => key.Kind == UpstreamCallKind.Check ? BuildForChecks() : Build(key.Provider, key.Kind));
        try
        {
            return await pipeline.ExecuteAsync(async token =>
            {
                using var message = request();
                var started = TimeProvider.System.GetTimestamp();
                using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token);
                var body = response.IsSuccessStatusCode
                    ? await CappedBody.ReadAsync(response.Content, MaxBodyBytes(kind), () => new AnswerTooLargeException(), token)
                    : await ErrorBodyAsync(response.Content, token);
                return new UpstreamResponse(response.StatusCode, body, RetryAfterOf(response.Headers), TimeProvider.System.GetElapsedTime(started));
            }, cancellationToken);
        }
        catch (BrokenCircuitException e)
        {
            throw new GenerationFailedException(GenerationErrors.ProviderUnavailable,
                $"{provider} is failing; calls to it are paused for a while", retryable: true)
            {
                RetryAfter = e.RetryAfter ?? TimeSpan.FromSeconds(_options.BreakSeconds),
            };
        }
        catch (TimeoutRejectedException e)
        {
            throw new GenerationFailedException(GenerationErrors.UpstreamTimeout,
                $"{provider} did not answer within {e.Timeout.TotalSeconds:0.#} s.", retryable: true);
        }
        catch (AnswerTooLargeException)
        {
            // An answer that big can only carry an image that is too large (a task's record: none that can be read).
            throw new GenerationFailedException(GenerationErrors.InvalidUpstreamImage,
                kind == UpstreamCallKind.Generate
                    ? $"{provider}'s answer is larger than {MaxBodyBytes(kind)} bytes (Upstream:MaxImageBytes in Base64)."
                    : $"{provider}'s task record is larger than {TaskRecordMaxBytes / (1024 * 1024)} MiB.", retryable: true);
        }
        catch (HttpRequestException e)
        {
            // The client gets the kind of failure; the log keeps the detail (addresses of private gateways included). A failed
            // check is logged by its job, which names itself (one a poll, each job's own).
            if (kind != UpstreamCallKind.Check) logger.LogWarning("{Provider} could not be reached: {Reason}", provider, e.Message);
            throw new GenerationFailedException(GenerationErrors.UpstreamError, $"{provider} could not be reached ({Describe(e)})", retryable: true);
        }
        catch (IOException e)
        {
            if (kind != UpstreamCallKind.Check) logger.LogWarning("{Provider}'s answer broke off: {Reason}", provider, e.Message);
            throw new GenerationFailedException(GenerationErrors.UpstreamError, $"{provider}'s answer broke off before its end", retryable: true);
        }
    }

    public void Dispose() => http.Dispose();

    /// <summary>What went wrong on the way, without the exception's text (which names addresses).</summary>
    public static string Describe(HttpRequestException e) => e.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "its host name does not resolve",
        HttpRequestError.ConnectionError => "no connection",
        HttpRequestError.SecureConnectionError => "the TLS handshake failed",
        HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse => "the answer broke off or was no HTTP",
        _ => "transport error",
    };

    sealed class AnswerTooLargeException : Exception;

    /// <summary>
    /// An error answer's body, read for its code and message: past <see cref="ErrorBodyMaxBytes"/> it is not read (none
    /// at all, so the status alone speaks). A 50 MB error message, within the image cap, had taken the app past 1 GB.
    /// </summary>
    static async Task<byte[]> ErrorBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        try { return await CappedBody.ReadAsync(content, ErrorBodyMaxBytes, () => new AnswerTooLargeException(), cancellationToken); }
        catch (AnswerTooLargeException) { return []; }
    }

    public const int ErrorBodyMaxBytes = 64 * 1024;

    // An image answered in Base64 is a third larger than the image. A task's record (geminigen's submit and check
    // answers) holds URLs, not an image: read in full at every check, it gets a cap of its own, roomy for verbose records.
    long MaxBodyBytes(UpstreamCallKind kind) => kind == UpstreamCallKind.Generate ? _options.MaxImageBytes / 3 * 4 + 1024 * 1024 : TaskRecordMaxBytes;
    const long TaskRecordMaxBytes = 4 * 1024 * 1024;

    static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(15);

    ResiliencePipeline<UpstreamResponse> BuildForChecks() => new ResiliencePipelineBuilder<UpstreamResponse>()
        .AddTimeout(TimeSpan.FromSeconds(Math.Min(_options.AttemptTimeoutSeconds, CheckTimeout.TotalSeconds)))
        .Build();

    ResiliencePipeline<UpstreamResponse> Build(string provider, UpstreamCallKind kind)
    {
        var builder = new ResiliencePipelineBuilder<UpstreamResponse>();
        Func<Outcome<UpstreamResponse>, bool> worthRetrying = kind == UpstreamCallKind.StartTask ? SurelyNotStarted : IsTransient;
        if (_options.MaxRetries > 0)
            builder.AddRetry(new RetryStrategyOptions<UpstreamResponse>
            {
                ShouldHandle = args => ValueTask.FromResult(worthRetrying(args.Outcome) && !AsksTooLongAWait(args.Outcome.Result)),
                MaxRetryAttempts = _options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(_options.RetryBaseDelaySeconds),
                MaxDelay = TimeSpan.FromSeconds(_options.MaxRetryDelaySeconds),
                // A Retry-After of no wait (0, a date past) would send a rate-limited, paid call again at once: the backoff decides then.
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.RetryAfter is { } wait && wait > TimeSpan.Zero ? wait : (TimeSpan?)null),
            });
        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<UpstreamResponse>
            {
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                FailureRatio = 0.5,
                MinimumThroughput = Math.Max(2, _options.BreakerMinimumCalls),
                SamplingDuration = TimeSpan.FromSeconds(Math.Max(0.5, _options.BreakerWindowSeconds)),
                BreakDuration = TimeSpan.FromSeconds(Math.Max(0.5, _options.BreakSeconds)),
                // Calls then fail at once with provider_unavailable: the log says when and why they stopped and resumed.
                OnOpened = args =>
                {
                    logger.LogWarning("Calls to {Provider} ({Kind}) are paused for {Seconds:0.#} s: half or more of its recent calls failed, the last with {Outcome}",
                        provider, kind, args.BreakDuration.TotalSeconds, OutcomeOf(args.Outcome));
                    return default;
                },
                OnClosed = _ =>
                {
                    logger.LogInformation("Calls to {Provider} ({Kind}) resume: a trial call succeeded", provider, kind);
                    return default;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(_options.AttemptTimeoutSeconds))
            .Build();
    }

    static string OutcomeOf(Outcome<UpstreamResponse> outcome) =>
        outcome.Exception is { } e ? e.GetType().Name : $"status {(int)outcome.Result!.Status}";

    // Worth another try: no answer in time, no connection, rate limited, or the upstream's own failure.
    static bool IsTransient(Outcome<UpstreamResponse> outcome) => outcome.Exception switch
    {
        HttpRequestException or IOException or TimeoutRejectedException => true,
        // OpenAI answers 429 for an exhausted quota too, which no retry changes (each one a call to a paid endpoint).
        null => outcome.Result is { Status: HttpStatusCode.TooManyRequests } limited ? !SaysOutOfCredit(limited)
            : outcome.Result is { Status: >= HttpStatusCode.InternalServerError },
        _ => false,
    };

    static bool SaysOutOfCredit(UpstreamResponse answer) => UpstreamFailures.IsOutOfCredit(UpstreamJson.StringMember(answer.Json("")?["error"], "code"));

    // A task the upstream may have started would be started (and billed) twice: retried only when no connection was made,
    // or when the upstream answered that it took nothing on (rate limited, unavailable).
    static bool SurelyNotStarted(Outcome<UpstreamResponse> outcome) => outcome.Exception switch
    {
        HttpRequestException e => e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            or HttpRequestError.SecureConnectionError,
        null => outcome.Result is { Status: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable },
        _ => false,
    };

    bool AsksTooLongAWait(UpstreamResponse? response) =>
        response?.RetryAfter is { } wait && wait > TimeSpan.FromSeconds(_options.MaxRetryDelaySeconds);

    static TimeSpan? RetryAfterOf(HttpResponseHeaders headers) => headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        // Seconds past an Int32 do not parse, yet ask for a wait longer than any retry: read as the longest, not as none.
        _ => headers.NonValidated.TryGetValues("Retry-After", out var values) && values.Count == 1
            && values.ToString().Trim() is { Length: > 0 } text && text.All(char.IsAsciiDigit) ? TimeSpan.MaxValue : null,
    };
}

/// <summary>What an upstream call does, which decides how its failures are retried.</summary>
public enum UpstreamCallKind
{
    /// <summary>A call answered with the image: retried on any transient failure, as the providers' own SDKs do.</summary>
    Generate,

    /// <summary>
    /// Starts a task that the upstream then runs and bills on its own (geminigen's submit): retried only when the upstream
    /// surely did not start it, since the upstreams offer no idempotency key. A timeout or an answer that broke off moves
    /// the job to its fallback instead.
    /// </summary>
    StartTask,

    /// <summary>
    /// A status check: no circuit breaker (one task whose checks fail must not pause every new submit to the provider), no
    /// retries (the job's timers already pace checks, and a failed one counts as "still pending"), and at most
    /// <c>CheckTimeout</c> an attempt (a hanging check would hold an activity slot for every job).
    /// </summary>
    Check,
}

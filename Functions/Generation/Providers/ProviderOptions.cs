namespace Functions.Generation.Providers;

/// <summary>Where each upstream is and, optionally, its token from app settings (section <c>Providers</c>).</summary>
public sealed class ProviderOptions
{
    public const string Section = "Providers";

    public GeminigenOptions Geminigen { get; set; } = new();
    public UpstreamEndpoint SiliconFlow { get; set; } = new() { BaseUrl = "https://api.siliconflow.com/v1" };
    public UpstreamEndpoint OpenAI { get; set; } = new() { BaseUrl = "https://api.openai.com/v1" };

    /// <summary>
    /// Bound from its section once; a blank value is its default, and a base URL that is no http(s) URL, or an unknown
    /// auth mode, stops the app at start.
    /// </summary>
    public static void AddTo(IServiceCollection services)
    {
        var defaults = new ProviderOptions();
        services.AddOptions<ProviderOptions>().BindConfiguration(Section).PostConfigure(BlankIsDefault)
            .Validate(o => PlainHttpUrl.IsValid(o.Geminigen.BaseUrl), UrlMessage("Geminigen:BaseUrl", defaults.Geminigen.BaseUrl))
            .Validate(o => PlainHttpUrl.IsValid(o.Geminigen.WebBaseUrl), UrlMessage("Geminigen:WebBaseUrl", defaults.Geminigen.WebBaseUrl))
            .Validate(o => PlainHttpUrl.IsValid(o.SiliconFlow.BaseUrl), UrlMessage("SiliconFlow:BaseUrl", defaults.SiliconFlow.BaseUrl))
            .Validate(o => PlainHttpUrl.IsValid(o.OpenAI.BaseUrl), UrlMessage("OpenAI:BaseUrl", defaults.OpenAI.BaseUrl))
            .Validate(o => GeminigenOptions.AuthModes.Contains(o.Geminigen.Auth, StringComparer.OrdinalIgnoreCase),
                $"Providers:Geminigen:Auth must be one of: {string.Join(", ", GeminigenOptions.AuthModes)}.")
            .ValidateOnStart();
    }

    // Core Tools and Azure pass a setting left empty as an empty value: it means the default, as for Api:PublicBaseUrl.
    static void BlankIsDefault(ProviderOptions options)
    {
        var defaults = new ProviderOptions();
        options.Geminigen.BaseUrl = Or(options.Geminigen.BaseUrl, defaults.Geminigen.BaseUrl);
        options.Geminigen.WebBaseUrl = Or(options.Geminigen.WebBaseUrl, defaults.Geminigen.WebBaseUrl);
        options.Geminigen.Auth = Or(options.Geminigen.Auth, defaults.Geminigen.Auth);
        options.SiliconFlow.BaseUrl = Or(options.SiliconFlow.BaseUrl, defaults.SiliconFlow.BaseUrl);
        options.OpenAI.BaseUrl = Or(options.OpenAI.BaseUrl, defaults.OpenAI.BaseUrl);
    }

    static string Or(string? value, string fallback) => string.IsNullOrWhiteSpace(value) ? fallback : value.Trim();

    static string UrlMessage(string key, string example) => $"{Section}:{key} must be {PlainHttpUrl.Rule}, such as {example}.";
}

public class UpstreamEndpoint
{
    public string BaseUrl { get; set; } = "";

    /// <summary>Used when no token was saved through the API; the saved one wins.</summary>
    public string? Token { get; set; }
}

public sealed class GeminigenOptions : UpstreamEndpoint
{
    public GeminigenOptions() => BaseUrl = "https://api.geminigen.ai/uapi/v1";

    /// <summary>The website API, used with a logged-in account's JWT.</summary>
    public string WebBaseUrl { get; set; } = "https://api.geminigen.ai/api";

    /// <summary>auto (a JWT goes to the website API as Bearer, anything else to the public API as x-api-key), apikey or bearer.</summary>
    public string Auth { get; set; } = "auto";

    public static readonly string[] AuthModes = ["auto", "apikey", "bearer"];
}

/// <summary>How upstream calls are bounded and retried (section <c>Upstream</c>).</summary>
public sealed class UpstreamOptions
{
    public const string Section = "Upstream";

    /// <summary>One attempt's bound, body included.</summary>
    public double AttemptTimeoutSeconds { get; set; } = 120;
    public int MaxRetries { get; set; } = 2;
    public double RetryBaseDelaySeconds { get; set; } = 1;

    /// <summary>Retry-After beyond this is not waited for: the job moves to its fallback instead.</summary>
    public double MaxRetryDelaySeconds { get; set; } = 10;

    /// <summary>The circuit opens when half the calls in this window fail, after at least BreakerMinimumCalls.</summary>
    public double BreakerWindowSeconds { get; set; } = 30;
    public int BreakerMinimumCalls { get; set; } = 10;
    public double BreakSeconds { get; set; } = 30;

    /// <summary>First and longest wait between checks on an asynchronous upstream task.</summary>
    public double PollMinSeconds { get; set; } = 2;
    public double PollMaxSeconds { get; set; } = 10;

    /// <summary>After this long since the job's orchestration started, a job fails as timed out.</summary>
    public double DeadlineSeconds { get; set; } = 600;

    public long MaxImageBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Lets image URLs point at loopback and private addresses; for tests and private gateways only.</summary>
    public bool AllowPrivateAddresses { get; set; }

    const double Day = 86_400;

    /// <summary>Bound from its section once; a value out of range stops the app at start, with the reason.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.AddOptions<UpstreamOptions>().BindConfiguration(Section)
            // Past these the resilience pipeline, built on the first call, refused every call (Polly takes 10 ms to a day).
            .Validate(o => o.AttemptTimeoutSeconds is >= 0.01 and <= Day, "Upstream:AttemptTimeoutSeconds must be from 0.01 to 86400 (a day).")
            .Validate(o => o.BreakerWindowSeconds <= Day && o.BreakSeconds <= Day, // NaN fails both comparisons
                "Upstream: BreakerWindowSeconds and BreakSeconds must be at most 86400 (a day); under 0.5 counts as 0.5.")
            // A job's every step is bounded by it: a deadline shorter than a second failed every generation; one past a day
            // overflowed the engine's timers.
            .Validate(o => o.DeadlineSeconds is >= 1 and <= Day, "Upstream:DeadlineSeconds must be from 1 to 86400 (a day).")
            .Validate(o => o.MaxImageBytes > 0, "Upstream:MaxImageBytes must be above 0.")
            .Validate(o => o.MaxRetries >= 0, "Upstream:MaxRetries must be 0 or more.")
            // The wait grows from the minimum by half each check: from 0 it stayed 0, checks back to back until the deadline.
            .Validate(o => o.PollMinSeconds > 0 && o.PollMaxSeconds >= o.PollMinSeconds && o.PollMaxSeconds <= 600,
                "Upstream: PollMinSeconds must be above 0 and at most PollMaxSeconds, which is at most 600.")
            .Validate(o => o.RetryBaseDelaySeconds >= 0 && o.MaxRetryDelaySeconds >= o.RetryBaseDelaySeconds && o.MaxRetryDelaySeconds <= 86_400,
                "Upstream: RetryBaseDelaySeconds must be 0 or more and at most MaxRetryDelaySeconds, which is at most a day.")
            .ValidateOnStart();
}

namespace Functions.Hosting;

/// <summary>How the API names itself in the links it hands out (section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>
    /// The public base URL for links (imageUrl, Location): an absolute http or https URL. Unset or blank (Core Tools
    /// turns an empty local setting into an empty variable), the request's own scheme and host.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    public const double DefaultBodySilenceSeconds = 30;

    /// <summary>How long a request body may go without a byte before its request answers 408 (<see cref="SilenceBoundBody"/>).</summary>
    public double BodySilenceSeconds { get; set; } = DefaultBodySilenceSeconds;

    public string? ConfiguredBaseUrl => string.IsNullOrWhiteSpace(PublicBaseUrl) ? null : PublicBaseUrl.Trim().TrimEnd('/');

    public bool IsValid => ConfiguredBaseUrl is not { } url || PlainHttpUrl.IsValid(url);

    /// <summary>Bound from its section once; a value out of range stops the app at start, with the reason.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.AddOptions<ApiOptions>().BindConfiguration(Section)
            .Validate(o => o.IsValid, $"Api:PublicBaseUrl must be {PlainHttpUrl.Rule}, such as https://images.example.com.")
            // Under a second, a client's ordinary pause between packets failed its request (1e-9: every POST with a body, 408).
            .Validate(o => o.BodySilenceSeconds is >= 1 and <= MaxSilenceSeconds,
                $"Api:BodySilenceSeconds must be from 1 to {MaxSilenceSeconds} (Azure cuts requests at 230 s).")
            .ValidateOnStart();

    const int MaxSilenceSeconds = Generation.GenerationOptions.MaxAnswerSeconds;
}

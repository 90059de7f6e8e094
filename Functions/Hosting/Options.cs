namespace Functions.Hosting;

// Settings, bound once from configuration (appsettings*.json, environment "Section__Key", command line). README lists them.

public sealed class GenerationOptions
{
    public const string Section = "Generation";

    /// <summary>The longest an HTTP answer may be held back: Azure cuts HTTP responses at 230 s.</summary>
    public const int MaxAnswerSeconds = 220;

    /// <summary>How long a generate request waits for its job before answering 202 (at most <see cref="MaxAnswerSeconds"/>).</summary>
    public int SyncWaitSeconds { get; set; } = 50;

    /// <summary>Use the built-in offline renderer when no upstream token is configured. On in Development, off otherwise.</summary>
    public bool OfflineRenderer { get; set; }

    /// <summary>
    /// Megapixels the process decodes at once, every image check together (4 bytes a pixel: 100 is 400 MB); at least
    /// the largest image accepted (<see cref="Generation.ImageInspector.MaxPixels"/>), which must be able to decode.
    /// </summary>
    public int DecodeBudgetMegapixels { get; set; } = 2 * (int)(Generation.ImageInspector.MaxPixels / 1_000_000);

    /// <summary>How long the check of a client's image (an upload, a reference) waits for its share of the decode budget before its request answers 503 server_busy.</summary>
    public double DecodeWaitSeconds { get; set; } = 30;

    /// <summary>How long an ended job is kept (readable, listed) before the daily purge forgets it, as a DELETE would; 0 keeps jobs until deleted.</summary>
    public double JobRetentionDays { get; set; } = 30;

    /// <summary>The longest retention (a century): past it, the cutoff would fall before the calendar's first day.</summary>
    public const double MaxJobRetentionDays = 36_500;
}

public sealed class AuthOptions
{
    public const string Section = "Auth";

    public const int MinAdminKeyLength = 16;

    /// <summary>The admin key for token and key management (header X-Admin-Key); at least <see cref="MinAdminKeyLength"/> characters.</summary>
    public string? AdminKey { get; set; }

    /// <summary>With no AdminKey set, generate one on first start, keep its hash, print it once. On in Development.</summary>
    public bool GenerateLocalAdminKey { get; set; }

    /// <summary>
    /// Whether DELETE /api/images/{id} needs the admin key. Off by default, as the kioai contract has it; image ids
    /// count up from 1, so without it whoever reaches the API can delete every image, private ones included.
    /// </summary>
    public bool ImageDeleteNeedsAdminKey { get; set; }
}

public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>
    /// The public base URL for links (imageUrl, Location): an absolute http or https URL. Unset or blank (Core Tools
    /// turns an empty local setting into an empty variable), the request's own scheme and host.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    public string? ConfiguredBaseUrl => string.IsNullOrWhiteSpace(PublicBaseUrl) ? null : PublicBaseUrl.Trim().TrimEnd('/');

    public bool IsValid => ConfiguredBaseUrl is not { } url
        || Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Query.Length == 0 && uri.Fragment.Length == 0;
}

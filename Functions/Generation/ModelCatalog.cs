namespace Functions.Generation;

/// <summary>The kioai models and what each takes: the one place that maps a model to its upstream provider.</summary>
public static class ModelCatalog
{
    public const string Geminigen = "geminigen";

    public static readonly IReadOnlyList<string> Styles =
        ["none", "realistic", "anime", "artistic", "cartoon", "sketch", "oil_painting", "watercolor", "digital_art"];

    public static readonly IReadOnlyList<string> AspectRatios = ["1:1", "16:9", "9:16", "4:3", "3:4", "2:3", "3:2"];

    public static readonly IReadOnlyList<string> Models =
        ["grok", "meta", "imagen-pro", "imagen-4", "imagen-flash", "nano-banana-pro", "nano-banana-2"];

    public static readonly IReadOnlyList<string> Resolutions = ["1K", "2K", "4K"];

    public const string DefaultStyle = "realistic";
    public const string DefaultAspectRatio = "1:1";
    public const string DefaultModel = "grok";

    /// <summary>Only the Nano Banana models take a resolution.</summary>
    public static bool TakesResolution(string model) => model is "nano-banana-pro" or "nano-banana-2";

    public static string ProviderOf(string model) => Geminigen;
}

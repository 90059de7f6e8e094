using System.Globalization;

namespace Functions.Generation.Providers;

/// <summary>
/// How a kioai request's style and aspect ratio become what each upstream takes. The tables are in README.md too.
/// </summary>
public static class UpstreamMapping
{
    /// <summary>kioai style to geminigen's style names (generate_image only; grok and meta take no style).</summary>
    public static readonly IReadOnlyDictionary<string, string> GeminigenStyles = new Dictionary<string, string>
    {
        ["none"] = "None", ["realistic"] = "Photorealistic", ["anime"] = "Anime General", ["artistic"] = "Creative",
        ["cartoon"] = "Illustration", ["sketch"] = "Illustration", ["oil_painting"] = "Acrylic", ["watercolor"] = "Watercolor",
        ["digital_art"] = "Graphic Design 3D",
    };

    /// <summary>kioai style to words added to the prompt, for upstreams that take no style (geminigen's grok and meta, SiliconFlow, OpenAI-compatible).</summary>
    public static readonly IReadOnlyDictionary<string, string> PromptStyles = new Dictionary<string, string>
    {
        ["none"] = "", ["realistic"] = "photorealistic", ["anime"] = "anime style", ["artistic"] = "artistic",
        ["cartoon"] = "cartoon style", ["sketch"] = "pencil sketch", ["oil_painting"] = "oil painting",
        ["watercolor"] = "watercolor painting", ["digital_art"] = "digital art",
    };

    /// <summary>
    /// The prompt and the style's words, unless they would take it past the kioai limit, which is also dall-e-3's and
    /// AIImg's (a 4000-character prompt plus ", photorealistic" is refused there): then the prompt alone.
    /// </summary>
    public static string StyledPrompt(GenerationRequest request) =>
        PromptStyles.GetValueOrDefault(request.Style, "") is { Length: > 0 } words
        && request.Prompt.EnumerateRunes().Count() + ", ".Length + words.Length <= GenerateImageValidator.MaxPromptLength
            ? $"{request.Prompt}, {words}"
            : request.Prompt;

    /// <summary>
    /// The shape the model takes that is nearest the requested ratio (by the log of width over height, so that 2:3
    /// and 3:2 are equally far from 1:1). Shapes are ratios ("3:4"), sizes ("768x1024") or orientations.
    /// </summary>
    public static string NearestShape(IReadOnlyList<string> shapes, string aspectRatio)
    {
        if (shapes.Count == 0) return aspectRatio;
        var wanted = Math.Log(RatioOf(aspectRatio));
        return shapes.MinBy(shape => Math.Abs(Math.Log(RatioOf(shape)) - wanted))!;
    }

    /// <summary>Whether a catalog shape is one the mapping reads: a ratio ("3:4"), a size ("768x1024") or an orientation.</summary>
    public static bool IsShape(string shape) => TryRatioOf(shape) is not null;

    static double RatioOf(string shape) =>
        TryRatioOf(shape) ?? throw new InvalidOperationException($"'{shape}' is not a ratio (3:4), a size (768x1024) or an orientation.");

    static double? TryRatioOf(string shape) => shape switch
    {
        "landscape" => 3.0 / 2,
        "portrait" => 2.0 / 3,
        "square" => 1,
        _ when shape.Split(':', 'x') is [var w, var h]
               && double.TryParse(w, CultureInfo.InvariantCulture, out var width) && double.TryParse(h, CultureInfo.InvariantCulture, out var height)
               && width > 0 && height > 0 => width / height,
        _ => null,
    };
}

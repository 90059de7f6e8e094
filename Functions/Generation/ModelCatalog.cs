using Functions.Tokens;

namespace Functions.Generation;

/// <summary>One public model, as configured under <c>Models:{name}</c>: who makes it and what it takes.</summary>
public sealed class ModelEntry
{
    /// <summary>geminigen, siliconflow or openai.</summary>
    public string Provider { get; set; } = "";

    /// <summary>The upstream's model id; the public name when empty.</summary>
    public string? UpstreamModel { get; set; }

    /// <summary>
    /// The upstream path under the provider's base URL (geminigen: generate_image, imagen/grok, meta_ai/generate); blank is
    /// the provider's default, as Core Tools and Azure pass a setting left empty (it was the base URL itself: a 404, then the fallback).
    /// </summary>
    public string? Endpoint { get; set => field = string.IsNullOrWhiteSpace(value) ? null : value; }

    /// <summary>What the upstream takes for the picture's shape: ratios ("16:9"), sizes ("1024x1536") or orientations ("landscape").</summary>
    public List<string> Shapes { get; set; } = [];

    /// <summary>The resolutions it takes ("1K", "2K", "4K"); none means the request may not name one.</summary>
    public List<string> Resolutions { get; set; } = [];

    public bool TakesReference { get; set; }

    /// <summary>OpenAI-compatible only: the response_format to ask for; none for GPT image models, which always answer in Base64.</summary>
    public string? ResponseFormat { get; set => field = string.IsNullOrWhiteSpace(value) ? null : value; } // blank: none, as for Endpoint

    /// <summary>SiliconFlow only: denoising steps, 1 to 100; none sends SiliconFlow's default (<see cref="Providers.SiliconFlowProvider.DefaultInferenceSteps"/>).</summary>
    public int? InferenceSteps { get; set; }

    /// <summary>SiliconFlow only: how closely the image follows the prompt, 0 to 20; none sends SiliconFlow's default (<see cref="Providers.SiliconFlowProvider.DefaultGuidanceScale"/>).</summary>
    public double? GuidanceScale { get; set; }

    /// <summary>The models to try, in order, when this one fails in a way that another might not.</summary>
    public List<string> Fallbacks { get; set; } = [];
}

/// <summary>
/// The public models, from configuration (section <c>Models</c>; the defaults are in appsettings.json), and the
/// request enums of the kioai contract, which do not depend on the model.
/// </summary>
public sealed class ModelCatalog
{
    public const string Section = "Models";

    public static readonly IReadOnlyList<string> Styles =
        ["none", "realistic", "anime", "artistic", "cartoon", "sketch", "oil_painting", "watercolor", "digital_art"];

    public static readonly IReadOnlyList<string> AspectRatios = ["1:1", "16:9", "9:16", "4:3", "3:4", "2:3", "3:2"];
    public static readonly IReadOnlyList<string> Resolutions = ["1K", "2K", "4K"];

    public const string DefaultStyle = "realistic";
    public const string DefaultAspectRatio = "1:1";
    public const string DefaultModel = "grok";

    readonly Dictionary<string, ModelEntry> _models;

    public ModelCatalog(IOptions<Dictionary<string, ModelEntry>> models)
    {
        _models = new Dictionary<string, ModelEntry>(models.Value, StringComparer.Ordinal);
        if (ProblemOf(_models) is { } problem) throw new InvalidOperationException(problem);
        Names = [.. _models.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>What is wrong with a catalog, or null: checked when the app starts (see <see cref="Validation"/>).</summary>
    public static string? ProblemOf(IReadOnlyDictionary<string, ModelEntry> models)
    {
        foreach (var (name, entry) in models)
        {
            if (!UpstreamTokens.Providers.Contains(entry.Provider))
                return $"Models:{name}:Provider is '{entry.Provider}'; it must be one of {string.Join(", ", UpstreamTokens.Providers)}.";
            foreach (var fallback in entry.Fallbacks.Where(f => !models.ContainsKey(f)))
                return $"Models:{name}:Fallbacks names '{fallback}', which is not in the catalog.";
            if (entry.Endpoint is { } endpoint && !IsPlainPath(endpoint))
                return $"Models:{name}:Endpoint is '{endpoint}'; it must be a path under the provider's base URL: segments of letters, digits, " +
                       "'-', '_', '.' and '~', none of them '.' or '..' (such as imagen/grok).";
            foreach (var shape in entry.Shapes.Where(s => !Providers.UpstreamMapping.IsShape(s)))
                return $"Models:{name}:Shapes has '{shape}', which is not a ratio (3:4), a size (768x1024) or landscape, portrait or square.";
            // Its one call, POST /images/generations, has no image field: a reference would be dropped without a word.
            if (entry.TakesReference && entry.Provider == Providers.OpenAiCompatibleProvider.ProviderName)
                return $"Models:{name}:TakesReference is true, but the openai provider sends no reference image (it calls /images/generations only).";
            // The fields of one provider's request, which the others would drop without a word.
            if (entry.ResponseFormat is not null && entry.Provider != Providers.OpenAiCompatibleProvider.ProviderName)
                return $"Models:{name}:ResponseFormat is '{entry.ResponseFormat}', but the {entry.Provider} provider sends no response_format (only openai does).";
            if (entry.InferenceSteps is not null && entry.Provider != Providers.SiliconFlowProvider.ProviderName)
                return $"Models:{name}:InferenceSteps is {entry.InferenceSteps}, but the {entry.Provider} provider sends no num_inference_steps (only siliconflow does).";
            if (entry.GuidanceScale is not null && entry.Provider != Providers.SiliconFlowProvider.ProviderName)
                return $"Models:{name}:GuidanceScale is {entry.GuidanceScale}, but the {entry.Provider} provider sends no guidance_scale (only siliconflow does).";
            if (entry.InferenceSteps is < 1 or > 100)
                return $"Models:{name}:InferenceSteps is {entry.InferenceSteps}; SiliconFlow takes 1 to 100.";
            if (entry.GuidanceScale is < 0 or > 20 || entry.GuidanceScale is double.NaN)
                return $"Models:{name}:GuidanceScale is {entry.GuidanceScale}; SiliconFlow takes 0 to 20.";
        }
        return null;
    }

    // The URL is the base URL, '/' and this: a '..' or a query would call another endpoint than the one named.
    static bool IsPlainPath(string path) => path.Trim('/').Split('/')
        .All(segment => segment is not ("" or "." or "..") && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~'));

    /// <summary>
    /// Runs <see cref="ProblemOf"/> as options validation, so that a bad catalog stops the app when it starts; a key no
    /// entry has (a misspelt TakesRefrence) stops it too, rather than being ignored.
    /// </summary>
    public sealed class Validation(IConfiguration configuration) : IValidateOptions<Dictionary<string, ModelEntry>>
    {
        static readonly string[] Keys = [.. typeof(ModelEntry).GetProperties().Select(p => p.Name)];

        public ValidateOptionsResult Validate(string? name, Dictionary<string, ModelEntry> options) =>
            (UnknownKey() ?? ProblemOf(options)) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;

        string? UnknownKey()
        {
            foreach (var model in configuration.GetSection(Section).GetChildren())
            foreach (var key in model.GetChildren().Where(k => !Keys.Contains(k.Key, StringComparer.OrdinalIgnoreCase)))
                return $"{Section}:{model.Key}:{key.Key} is not a setting of a model; a model has {string.Join(", ", Keys)}.";
            return null;
        }
    }

    public IReadOnlyList<string> Names { get; }

    public ModelEntry? Find(string model) => _models.GetValueOrDefault(model);

    /// <summary>The model and then its fallbacks, each once.</summary>
    public IReadOnlyList<string> ChainOf(string model) =>
        _models.TryGetValue(model, out var entry) ? [.. new[] { model }.Concat(entry.Fallbacks).Distinct(StringComparer.Ordinal)] : [model];
}

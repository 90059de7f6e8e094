using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Functions.Tests.Fakes;

/// <summary>
/// An OpenAI-compatible image API: POST /v1/images/generations answers data[] with b64_json, or with url when the
/// request asks response_format=url; errors are {"error": {"message", "type", "param", "code"}}. A request OpenAI's
/// images reference refuses (not JSON, no prompt, a parameter the model does not take, a value out of its range) is
/// a 400 worded as OpenAI words it.
/// </summary>
public sealed class FakeOpenAi : FakeUpstream
{
    public const string Key = "sk-oa-test-93ab71c2e4";

    /// <summary>What one model takes: each parameter with the values allowed (null: any value of its type), its most images and longest prompt.</summary>
    sealed record ModelRules(int MaxImages, int MaxPromptLength, Dictionary<string, string[]?> Parameters);

    static ModelRules Rules(int maxImages, int maxPromptLength, params (string Name, string[]? Values)[] own) => new(maxImages, maxPromptLength,
        new (string Name, string[]? Values)[] { ("prompt", null), ("model", null), ("n", null), ("user", null) }.Concat(own).ToDictionary(p => p.Name, p => p.Values));

    // GPT image models return Base64 always: response_format is no parameter of theirs (OpenAI answers unknown_parameter).
    // The reference gives output_compression, stream and partial_images ranges the app never sends: their values pass.
    static readonly ModelRules GptImage = Rules(10, 32000,
        ("size", ["1024x1024", "1536x1024", "1024x1536", "auto"]), ("quality", ["auto", "high", "medium", "low"]),
        ("output_format", ["png", "jpeg", "webp"]), ("background", ["transparent", "opaque", "auto"]), ("moderation", ["low", "auto"]),
        ("output_compression", null), ("stream", null), ("partial_images", null));

    static readonly Dictionary<string, ModelRules> Models = new()
    {
        ["gpt-image-1"] = GptImage, ["gpt-image-1-mini"] = GptImage, ["gpt-image-1.5"] = GptImage,
        ["dall-e-3"] = Rules(1, 4000, ("size", ["1024x1024", "1792x1024", "1024x1792"]), ("quality", ["auto", "hd", "standard"]),
            ("response_format", ["url", "b64_json"]), ("style", ["vivid", "natural"])),
        ["dall-e-2"] = Rules(10, 1000, ("size", ["256x256", "512x512", "1024x1024"]), ("quality", ["auto", "standard"]),
            ("response_format", ["url", "b64_json"])),
    };

    const string DefaultModel = "dall-e-2";

    const string Route = "/v1/images/generations";

    /// <summary>OpenAI's (and AIImg's) own refusals, by the fault that asks for one.</summary>
    static readonly Dictionary<Fault, (int Status, string? Code, string Message)> Refusals = new()
    {
        [Fault.ContentFiltered] = (400, "content_policy_violation", "Your request was rejected by the safety system"),
        [Fault.ModerationBlocked] = (400, "moderation_blocked", "Your request was rejected by the safety system"),
        [Fault.BillingHardLimit] = (400, "billing_hard_limit_reached", "Billing hard limit has been reached"),
        [Fault.NoCredit] = (429, "insufficient_quota", "You exceeded your current quota"),
        [Fault.PaymentRequired] = (402, "insufficient_balance", "Insufficient T-coin balance"),
        [Fault.BadRequest] = (400, "invalid_size", "Invalid size"),
        [Fault.BadCredentials] = (401, "invalid_api_key", "Incorrect API key provided"),
        [Fault.EchoesKey] = (400, "invalid_request", $"Key {Key} may not use this model"),
        [Fault.Forbidden] = (403, null, "Your organization must be verified to use this model"),
    };

    /// <summary>The faults the answer itself shows, as a URL or as Base64 (of the image faults, only those Base64 can show too).</summary>
    static readonly Fault[] AnswerFaults = [Fault.NotAnImage, Fault.OversizedImage, Fault.BothImageForms, Fault.DeeplyNested];

    protected override void Map(WebApplication app)
    {
        Shows(Route, [.. BearerCallFaults, .. Refusals.Keys, Fault.EchoesPrompt, Fault.ErrorAsText, .. AnswerFaults]);
        app.MapPost(Route, async context =>
        {
            if (await BeginBearerCallAsync(context, Key, Error, Error(401, "invalid_api_key", "Incorrect API key provided"), RefuseBodyAsync) is not { } call)
                return;
            var (request, fault) = call;
            var prompt = request.Fields["prompt"];
            if (fault is { } own && Refusals.TryGetValue(own, out var refusal))
            {
                await RejectAsync(context, refusal.Status, Error(refusal.Status, refusal.Code, refusal.Message));
                return;
            }
            if (fault == Fault.ErrorAsText)
            {
                await RejectAsync(context, 400, new { error = "size must be one of 1024x1024, 1536x1024, 1024x1536" });
                return;
            }
            if (fault == Fault.EchoesPrompt)
            {
                await RejectAsync(context, 400, Error(400, "invalid_prompt", $"Your prompt was rejected: {prompt}"));
                return;
            }
            object data = fault == Fault.BothImageForms
                ? new { b64_json = Convert.ToBase64String(Image), url = ImageUrl(null), revised_prompt = prompt }
                : request.Fields.GetValueOrDefault("response_format") == "url"
                    ? new { url = ImageUrl(fault), revised_prompt = prompt }
                    : new { b64_json = Convert.ToBase64String(fault switch
                    {
                        Fault.NotAnImage => "not an image at all"u8.ToArray(),
                        Fault.OversizedImage => OversizedImageBytes,
                        _ => Image,
                    }), revised_prompt = prompt };
            await Results.Json(WithNesting(new { created = 1763600000, data = new[] { data }, usage = new { total_tokens = 100 } }, fault)).ExecuteAsync(context);
        });
    }

    static async Task<bool> RefuseBodyAsync(HttpContext context)
    {
        if (await ProblemOfAsync(context.Request) is not { } problem) return false;
        await RejectAsync(context, 400, Error(400, problem.Code, problem.Message, problem.Param));
        return true;
    }

    static async Task<(string? Code, string Message, string? Param)?> ProblemOfAsync(HttpRequest request)
    {
        var (body, notJson) = await ReadJsonObjectAsync(request);
        if (body is null)
            return (null, $"We could not parse the JSON body of your request: {notJson}. The OpenAI API expects a JSON payload.", null);
        if (body["model"] is { } m && m.GetValueKind() != JsonValueKind.String) return WrongType("model", "a string", m);
        var model = body["model"]?.GetValue<string>() ?? DefaultModel;
        if (!Models.TryGetValue(model, out var rules)) return InvalidValue("model", model, Models.Keys);
        if (!body.ContainsKey("prompt")) return ("missing_required_parameter", "Missing required parameter: 'prompt'.", "prompt");

        foreach (var (name, value) in body)
        {
            if (!rules.Parameters.TryGetValue(name, out var allowed)) return ("unknown_parameter", $"Unknown parameter: '{name}'.", name);
            var kind = value?.GetValueKind();
            switch (name)
            {
                case "n" or "output_compression" or "partial_images":
                    if (kind != JsonValueKind.Number || !value!.AsValue().TryGetValue<int>(out _)) return WrongType(name, "an integer", value);
                    break;
                case "stream":
                    if (kind is not (JsonValueKind.True or JsonValueKind.False)) return WrongType(name, "a boolean", value);
                    break;
                default:
                    if (kind != JsonValueKind.String) return WrongType(name, "a string", value);
                    if (allowed is not null && !allowed.Contains(value!.GetValue<string>())) return InvalidValue(name, value.GetValue<string>(), allowed);
                    break;
            }
        }
        var promptLength = body["prompt"]!.GetValue<string>().EnumerateRunes().Count();
        if (promptLength > rules.MaxPromptLength)
            return ("string_above_max_length", $"Invalid 'prompt': string too long. Expected a string with maximum length {rules.MaxPromptLength}, " +
                $"but got a string with length {promptLength} instead.", "prompt");
        var n = body["n"]?.GetValue<int>() ?? 1;
        if (n < 1) return ("integer_below_min_value", $"Invalid 'n': integer below minimum value. Expected a value >= 1, but got {n} instead.", "n");
        if (n > rules.MaxImages)
            return ("integer_above_max_value", $"Invalid 'n': integer above maximum value. Expected a value <= {rules.MaxImages}, but got {n} instead.", "n");
        return null;
    }

    static (string?, string, string?) WrongType(string name, string expected, JsonNode? value) =>
        ("invalid_type", $"Invalid type for '{name}': expected {expected}, but got {value?.GetValueKind().ToString().ToLowerInvariant() ?? "null"} instead.", name);

    static (string?, string, string?) InvalidValue(string name, string value, IEnumerable<string> allowed) =>
        ("invalid_value", $"Invalid value: '{value}'. Supported values are: {string.Join(", ", allowed.Select(a => $"'{a}'"))}.", name);

    static object Error(int status, string? code, string message) => Error(status, code, message, null);

    static object Error(int status, string? code, string message, string? param) =>
        new { error = new { message, type = status >= 500 ? "server_error" : "invalid_request_error", param, code } };
}

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Functions.Tests.Fakes;

/// <summary>
/// SiliconFlow: POST /v1/images/generations (Bearer, JSON) answers images[].url at once, URLs that expire; errors are
/// {"code", "message", "data"} with 400 (bad parameters), 401 (key), 403 (balance), 429 and 503. A body that breaks
/// the request schema of specs/siliconflow-images.openapi.json (not JSON, a required field missing, a value out of
/// range) or names a model or size the docs do not give is a 400, as the service answers bad parameters.
/// </summary>
public sealed class FakeSiliconFlow : FakeUpstream
{
    public const string Key = "sk-sf-test-4b8e2d1c90";

    /// <summary>The code this fake gives a parameter error; SiliconFlow documents the shape, not each code.</summary>
    public const int InvalidParameterCode = 20015;

    /// <summary>The code SiliconFlow answers a model it does not have with (UPSTREAMS.md's example).</summary>
    public const int UnknownModelCode = 20012;

    static readonly JsonNode RequestSchema =
        OpenApiContract.SiliconFlow.At("/paths/~1images~1generations/post/requestBody/content/application~1json/schema");

    /// <summary>
    /// The models UPSTREAMS.md names and the image sizes each takes (the spec's "others" is no size: UPSTREAMS.md lists
    /// Kolors's five). FLUX.1-schnell's sizes are documented nowhere, so any WxH passes for it.
    /// </summary>
    static readonly Dictionary<string, string[]?> ImageSizes = new()
    {
        ["Kwai-Kolors/Kolors"] = ["1024x1024", "960x1280", "768x1024", "720x1440", "720x1280"],
        ["Qwen/Qwen-Image"] = ["1328x1328", "1664x928", "928x1664", "1472x1140", "1140x1472", "1584x1056", "1056x1584"],
        ["black-forest-labs/FLUX.1-schnell"] = null,
    };

    const string Route = "/v1/images/generations";

    /// <summary>SiliconFlow's own refusals, by the fault that asks for one.</summary>
    static readonly Dictionary<Fault, (int Status, string Code, string Message)> Refusals = new()
    {
        [Fault.NoCredit] = (403, "30001", "Sorry, your account balance is insufficient"),
        [Fault.BadRequest] = (400, "20012", "Model does not exist. Please check it carefully."),
        [Fault.BadCredentials] = (401, "20001", "Invalid token"),
        [Fault.Forbidden] = (403, "30011", "The model is not available for your account"),
        // UPSTREAMS.md gives no code for a refused prompt; the provider reads "sensitive" in a 400's message.
        [Fault.ContentFiltered] = (400, "20015", "The prompt contains sensitive content"),
    };

    protected override void Map(WebApplication app)
    {
        Shows(Route, [.. BearerCallFaults, .. Refusals.Keys, .. ImageFaults.Keys, Fault.DeeplyNested]);
        app.MapPost(Route, async context =>
        {
            if (await BeginBearerCallAsync(context, Key, Error, Error(401, "20001", "Invalid token"), RefuseBodyAsync) is not { } call) return;
            var fault = call.Fault;
            if (fault is { } own && Refusals.TryGetValue(own, out var refusal))
            {
                await RejectAsync(context, refusal.Status, Error(refusal.Status, refusal.Code, refusal.Message));
                return;
            }
            context.Response.Headers["x-siliconcloud-trace-id"] = Guid.NewGuid().ToString("N");
            await Results.Json(WithNesting(new { images = new[] { new { url = ImageUrl(fault) } }, timings = new { inference = 0.42 }, seed = 4242 }, fault))
                .ExecuteAsync(context);
        });
    }

    static async Task<bool> RefuseBodyAsync(HttpContext context)
    {
        if (await ParameterProblemAsync(context.Request) is not { } problem) return false;
        await RejectAsync(context, 400, new { code = problem.Code, message = problem.Message, data = (object?)null });
        return true;
    }

    // Fields the schema does not name pass: it does not set additionalProperties to false.
    static async Task<(int Code, string Message)?> ParameterProblemAsync(HttpRequest request)
    {
        var (body, notJson) = await ReadJsonObjectAsync(request);
        if (body is null) return Invalid(notJson!);
        if (OpenApiContract.SiliconFlow.Check(body, RequestSchema, enums: false).FirstOrDefault() is { } broken) return Invalid(broken);
        var model = body["model"]!.GetValue<string>();
        if (!ImageSizes.TryGetValue(model, out var sizes)) return (UnknownModelCode, "Model does not exist. Please check it carefully.");
        var size = body["image_size"]!.GetValue<string>();
        if (sizes is null ? !Regex.IsMatch(size, @"^[1-9]\d*x[1-9]\d*$") : !sizes.Contains(size))
            return Invalid($"image_size '{size}' is not one {model} takes ({(sizes is null ? "WxH" : string.Join(", ", sizes))})");
        if (body["image"]?.GetValue<string>() is { } image && !IsImageReference(image))
            return Invalid("image is neither a base64 data URL (data:image/...;base64,...) nor an http(s) URL");
        return null;
    }

    static (int, string) Invalid(string problem) => (InvalidParameterCode, $"Parameter is invalid: {problem}");

    /// <summary>UPSTREAMS.md: "base64 data URL or http URL".</summary>
    static bool IsImageReference(string image)
    {
        if (Uri.TryCreate(image, UriKind.Absolute, out var url) && url.Scheme is "http" or "https") return true;
        var match = Regex.Match(image, @"^data:image/[\w.+-]+;base64,(.+)$", RegexOptions.Singleline);
        return match.Success && Convert.TryFromBase64String(match.Groups[1].Value, new byte[match.Groups[1].Length], out _);
    }

    static object Error(int status, string code, string message) => new { code = int.TryParse(code, out var number) ? number : 50000, message, data = (object?)null };
}

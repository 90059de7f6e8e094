using System.Text.Json.Nodes;

namespace Functions.Generation.Providers;

/// <summary>
/// Any OpenAI-compatible image API (OpenAI, AIImg, gateways), synchronous: <c>POST /images/generations</c> answers
/// <c>data[0]</c> with <c>b64_json</c> or a <c>url</c>. Errors are <c>{"error": {"message", "type", "code"}}</c>.
/// </summary>
public sealed class OpenAiCompatibleProvider(
    UpstreamHttp http, UpstreamImages images, IOptions<ProviderOptions> providers) : IImageProvider
{
    public const string ProviderName = "openai";

    public string Name => ProviderName;

    public async Task<ProviderStep> SubmitAsync(ProviderCall call, CancellationToken cancellationToken)
    {
        var request = call.Input.Request;
        var body = new JsonObject
        {
            ["model"] = call.UpstreamModel, ["prompt"] = UpstreamMapping.StyledPrompt(request), ["n"] = 1,
            ["size"] = UpstreamMapping.NearestShape(call.Entry.Shapes, request.AspectRatio),
        };
        if (call.Entry.ResponseFormat is { Length: > 0 } format) body["response_format"] = format;

        var (response, json, debug) = await JsonImageApi.PostAsync(http, Name, providers.Value.OpenAI.BaseUrl, call, body, cancellationToken);
        if (!response.IsSuccess)
        {
            var error = json?["error"];
            // OpenAI's {"error": {"code", "message"}}; some compatible gateways send {"error": "…"}.
            var (code, message) = (UpstreamJson.StringMember(error, "code"), UpstreamJson.StringMember(error, "message") ?? UpstreamJson.TextOf(error));
            throw code switch
            {
                "content_policy_violation" or "moderation_blocked" => new GenerationFailedException(GenerationErrors.ContentFiltered, $"openai: {message}"),
                _ when UpstreamFailures.IsOutOfCredit(code) => new GenerationFailedException(GenerationErrors.UpstreamNoCredit, $"openai: {message}"),
                _ => UpstreamFailures.FromStatus(Name, response.Status, code, message),
            };
        }

        var image = (json?["data"] as JsonArray)?.FirstOrDefault();
        var (bytes, type) = UpstreamJson.StringValueMember(image, "b64_json") is { } base64
            ? await images.FromBase64Async(Name, base64, cancellationToken)
            : UpstreamJson.StringMember(image, "url") is { } url
                ? await images.DownloadAsync(url, cancellationToken)
                : throw UpstreamFailures.Malformed(Name, "no data[].b64_json or data[].url");
        return ProviderStep.Done(GeneratedImage.Of(bytes, type, debug));
    }
}

using System.Text.Json.Nodes;

namespace Functions.Generation.Providers;

/// <summary>
/// SiliconFlow, synchronous: <c>POST /images/generations</c> answers with image URLs that expire within the hour, so
/// the image is fetched at once. Errors are <c>{"code", "message", "data"}</c>; 403 means permission or balance.
/// </summary>
public sealed class SiliconFlowProvider(UpstreamHttp http, UpstreamImages images, IOptions<ProviderOptions> providers) : IImageProvider
{
    public const string ProviderName = "siliconflow";

    /// <summary>SiliconFlow's documented defaults, for a catalog entry that names none: the API requires both fields.</summary>
    public const int DefaultInferenceSteps = 20;
    public const double DefaultGuidanceScale = 7.5;

    public string Name => ProviderName;

    public async Task<ProviderStep> SubmitAsync(ProviderCall call, CancellationToken cancellationToken)
    {
        var request = call.Input.Request;
        var body = new JsonObject
        {
            ["model"] = call.UpstreamModel, ["prompt"] = UpstreamMapping.StyledPrompt(request),
            ["image_size"] = UpstreamMapping.NearestShape(call.Entry.Shapes, request.AspectRatio), ["batch_size"] = 1,
            ["num_inference_steps"] = call.Entry.InferenceSteps ?? DefaultInferenceSteps,
            ["guidance_scale"] = call.Entry.GuidanceScale ?? DefaultGuidanceScale,
        };
        // Every seed the API takes (at most 4,294,967,295) is within SiliconFlow's 0 to 9,999,999,999.
        if (request.Seed is { } seed) body["seed"] = seed;
        var image = call.Input.ReferenceImage is { } reference ? new JsonImageApi.ImageMember("image", reference) : null;

        var (response, json, debug) = await JsonImageApi.PostAsync(http, Name, providers.Value.SiliconFlow.BaseUrl, call, body, cancellationToken, image);
        if (!response.IsSuccess)
        {
            var message = UpstreamJson.StringMember(json, "message");
            var code = UpstreamJson.CodeMember(json, "code");
            throw (int)response.Status switch
            {
                // 403 is "permission or balance": only the message tells which.
                403 when message?.Contains("balance", StringComparison.OrdinalIgnoreCase) == true =>
                    new GenerationFailedException(GenerationErrors.UpstreamNoCredit, UpstreamFailures.Reason(Name, response.Status, code, message)),
                400 when message?.Contains("sensitive", StringComparison.OrdinalIgnoreCase) == true =>
                    new GenerationFailedException(GenerationErrors.ContentFiltered, $"siliconflow: {message}"),
                _ => UpstreamFailures.FromStatus(Name, response.Status, code, message),
            };
        }
        var url = UpstreamJson.StringMember((json?["images"] as JsonArray)?.FirstOrDefault(), "url")
            ?? throw UpstreamFailures.Malformed(Name, "no images[].url");
        var (bytes, type) = await images.DownloadAsync(url, cancellationToken);
        return ProviderStep.Done(GeneratedImage.Of(bytes, type, debug));
    }
}

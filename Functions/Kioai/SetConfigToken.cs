using System.Text;
using System.Text.Json;
using Functions.Generation.Providers;
using Functions.Hosting;
using Functions.Settings;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class SetConfigToken
{
    public const int MaxTokenBytes = 4096;

    /// <summary>Saves the geminigen token (trimmed); 400 for a missing, blank, over-4-KiB or control-character token.</summary>
    public static Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpRequest request, UpstreamTokens tokens, CancellationToken cancellationToken) =>
        SaveAsync(request, tokens, GeminigenProvider.ProviderName, cancellationToken);

    internal static async Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> SaveAsync(
        HttpRequest request, UpstreamTokens tokens, string provider, CancellationToken cancellationToken)
    {
        var (document, failure, _) = await RequestBody.ReadJsonAsync(request, MaxTokenBytes * 6 + 1024, cancellationToken);
        if (failure is not null) return KioaiErrors.BadRequest(failure.Code, failure.Message);
        using (document)
        {
            if (Validate(document!.RootElement, out var token) is { } error) return KioaiErrors.BadRequest(error);
            await tokens.SetAsync(provider, token!, cancellationToken);
            return TypedResults.Ok(new SuccessResponse(true, "Token saved."));
        }
    }

    /// <summary>The one token rule, shared by every provider's token endpoint.</summary>
    public static ErrorResponse? Validate(JsonElement body, out string? token)
    {
        token = null;
        if (!body.TryGetProperty("token", out var element) || element.ValueKind == JsonValueKind.Null)
            return new ErrorResponse("missing_token", "token is required.");
        if (element.ValueKind != JsonValueKind.String) return new ErrorResponse("invalid_type", "token must be a string.");
        token = element.GetString()!.Trim();
        if (token.Length == 0) return new ErrorResponse("missing_token", "token must not be empty or blank.");
        if (Encoding.UTF8.GetByteCount(token) > MaxTokenBytes)
            return new ErrorResponse("token_too_long", $"token is longer than {MaxTokenBytes} bytes.");
        if (token.Any(char.IsControl)) return new ErrorResponse("invalid_token", "token must not contain control characters.");
        return null;
    }
}

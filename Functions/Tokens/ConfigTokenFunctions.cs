using System.Text.Json;
using System.Text;
using Functions.Contracts.Kioai;
using Functions.Generation.Providers;
using Functions.Storage;

namespace Functions.Tokens;

/// <summary>
/// Upstream tokens, admin only: /api/config/token is geminigen's, /api/config/providers/{provider}/token every
/// provider's (an unknown provider is a 404). Tokens are shown masked, never in full.
/// </summary>
public sealed class ConfigTokenFunctions(UpstreamTokens tokens, AdminOnly admin, ILogger<ConfigTokenFunctions> logger)
{
    const int MaxTokenBytes = 4096;
    // The longest token with every character escaped (\uXXXX, 6 bytes each), and room for the rest of the body.
    const int MaxBodyBytes = MaxTokenBytes * 6 + 1024;

    [Function("GetConfigToken")]
    public Task<Results<Ok<TokenStatusResponse>, JsonHttpResult<ErrorResponse>>> GetConfigToken(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.ConfigToken)] HttpRequest request) =>
        StatusAsync(request, GeminigenProvider.ProviderName);

    [Function("SetConfigToken")]
    public Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> SetConfigToken(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.ConfigToken)] HttpRequest request) =>
        SaveAsync(request, GeminigenProvider.ProviderName);

    [Function("DeleteConfigToken")]
    public Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> DeleteConfigToken(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Routes.ConfigToken)] HttpRequest request) =>
        DeleteAsync(request, GeminigenProvider.ProviderName);

    [Function("GetProviderToken")]
    public Task<Results<Ok<TokenStatusResponse>, JsonHttpResult<ErrorResponse>>> GetProviderToken(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.ProviderToken)] HttpRequest request, string provider) =>
        StatusAsync(request, UpstreamTokens.NameOf(provider));

    [Function("SetProviderToken")]
    public Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> SetProviderToken(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.ProviderToken)] HttpRequest request, string provider) =>
        SaveAsync(request, UpstreamTokens.NameOf(provider));

    [Function("DeleteProviderToken")]
    public Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> DeleteProviderToken(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Routes.ProviderToken)] HttpRequest request, string provider) =>
        DeleteAsync(request, UpstreamTokens.NameOf(provider));

    async Task<Results<Ok<TokenStatusResponse>, JsonHttpResult<ErrorResponse>>> StatusAsync(HttpRequest request, string provider)
    {
        if (await RefuseAsync(request, provider) is { } refused) return refused;
        var token = await tokens.GetAsync(provider, request.HttpContext.RequestAborted);
        return TypedResults.Ok(new TokenStatusResponse(token is not null, token is null ? null : SecretMask.Mask(token)));
    }

    /// <summary>Saves the token (trimmed); 400 for a missing, blank, over-4-KiB or not printable ASCII token, 415 for a body that is not JSON.</summary>
    async Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> SaveAsync(HttpRequest request, string provider)
    {
        if (await RefuseAsync(request, provider) is { } refused) return refused;
        var (document, failure, _, _) = await RequestBody.ReadJsonAsync(request, MaxBodyBytes, largeBodyShare: null, request.HttpContext.RequestAborted);
        if (failure is not null) return KioaiErrors.Of(failure.Status, failure.Code, failure.Message);
        using (document)
        {
            if (Validate(document!.RootElement, out var token) is { } error) return KioaiErrors.BadRequest(error);
            await AuditedAsync(request, provider, "save", async () =>
            {
                await tokens.SetAsync(provider, token!, CancellationToken.None);
                return true;
            });
            logger.LogInformation("The {Provider} token was saved (by a holder of the admin key, from {Client})", provider, request.HttpContext.Connection.RemoteIpAddress);
            return TypedResults.Ok(new SuccessResponse(true, "Token saved."));
        }
    }

    /// <summary>Removes the saved token; succeeds whether or not one was set, and says which.</summary>
    async Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> DeleteAsync(HttpRequest request, string provider)
    {
        if (await RefuseAsync(request, provider) is { } refused) return refused;
        var removed = await AuditedAsync(request, provider, "removal", () => tokens.DeleteAsync(provider, CancellationToken.None));
        if (removed) logger.LogInformation("The {Provider} token was removed (by a holder of the admin key, from {Client})", provider, request.HttpContext.Connection.RemoteIpAddress);
        return TypedResults.Ok(new SuccessResponse(true, removed ? "Token removed." : "No token was saved."));
    }

    // A change storage did not confirm may still land (slow, not down): the audit trail says who asked for it. A change
    // once asked for is not cut off by a client that goes: made unseen, it would miss the audit trail.
    async Task<T> AuditedAsync<T>(HttpRequest request, string provider, string change, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (Exception e) when (StorageFaults.IsStorage(e))
        {
            logger.LogWarning("The {Provider} token's {Change} (by a holder of the admin key, from {Client}) was not confirmed ({Reason}); it may have been made: GET shows which",
                provider, change, request.HttpContext.Connection.RemoteIpAddress, FaultText.Of(e));
            throw;
        }
    }

    async Task<JsonHttpResult<ErrorResponse>?> RefuseAsync(HttpRequest request, string provider) =>
        await admin.RejectAsync(request) ?? (UpstreamTokens.Providers.Contains(provider) ? null
            : KioaiErrors.NotFound($"There is no provider '{Echo.Quote(provider)}'; the providers are {string.Join(", ", UpstreamTokens.Providers)}."));

    /// <summary>The one token rule, shared by every provider's token endpoint.</summary>
    static ErrorResponse? Validate(JsonElement body, out string? token)
    {
        token = null;
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("token", out var element) || element.ValueKind == JsonValueKind.Null)
            return new ErrorResponse(KioaiErrorCodes.MissingToken, "token is required.");
        if (element.ValueKind != JsonValueKind.String) return new ErrorResponse(KioaiErrorCodes.InvalidType, "token must be a string.");
        token = element.GetString()!.Trim();
        if (token.Length == 0) return new ErrorResponse(KioaiErrorCodes.MissingToken, "token must not be empty or blank.");
        if (Encoding.UTF8.GetByteCount(token) > MaxTokenBytes)
            return new ErrorResponse(KioaiErrorCodes.TokenTooLong, $"token is longer than {MaxTokenBytes} bytes.");
        // It goes into an upstream's Authorization header, which carries printable ASCII only.
        if (!HeaderText.IsPrintableAscii(token))
            return new ErrorResponse(KioaiErrorCodes.InvalidToken, "token must be printable ASCII (no control characters, no other characters).");
        return null;
    }
}

using Functions.Settings;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

/// <summary>
/// /api/config/providers/{provider}/token: the same three operations as /api/config/token (which is geminigen's), for
/// every provider that takes a token. An unknown provider is a 404.
/// </summary>
public static class GetProviderToken
{
    public static async Task<Results<Ok<TokenStatusResponse>, JsonHttpResult<ErrorResponse>>> Handle(
        string provider, UpstreamTokens tokens, CancellationToken cancellationToken) =>
        ProviderTokens.Unknown(provider) ?? (Results<Ok<TokenStatusResponse>, JsonHttpResult<ErrorResponse>>)
            await GetConfigToken.StatusAsync(tokens, provider, cancellationToken);
}

public static class SetProviderToken
{
    public static async Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> Handle(
        string provider, HttpRequest request, UpstreamTokens tokens, CancellationToken cancellationToken) =>
        ProviderTokens.Unknown(provider) ?? await SetConfigToken.SaveAsync(request, tokens, provider, cancellationToken);
}

public static class DeleteProviderToken
{
    public static async Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> Handle(
        string provider, UpstreamTokens tokens, CancellationToken cancellationToken) =>
        ProviderTokens.Unknown(provider) ?? (Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>)
            await DeleteConfigToken.DeleteAsync(tokens, provider, cancellationToken);
}

static class ProviderTokens
{
    public static JsonHttpResult<ErrorResponse>? Unknown(string provider) => UpstreamTokens.Providers.Contains(provider) ? null
        : KioaiErrors.NotFound($"There is no provider '{provider}'; the providers are {string.Join(", ", UpstreamTokens.Providers)}.");
}

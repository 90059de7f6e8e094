using Functions.Generation.Providers;
using Functions.Settings;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class GetConfigToken
{
    /// <summary>Whether the geminigen token is configured, and its masked form; never the token itself.</summary>
    public static Task<Ok<TokenStatusResponse>> Handle(UpstreamTokens tokens, CancellationToken cancellationToken) =>
        StatusAsync(tokens, GeminigenProvider.ProviderName, cancellationToken);

    internal static async Task<Ok<TokenStatusResponse>> StatusAsync(UpstreamTokens tokens, string provider, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(provider, cancellationToken);
        return TypedResults.Ok(new TokenStatusResponse(token is not null, token is null ? null : SecretMask.Mask(token)));
    }
}

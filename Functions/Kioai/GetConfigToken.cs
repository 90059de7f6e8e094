using Functions.Generation;
using Functions.Settings;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class GetConfigToken
{
    /// <summary>Whether the geminigen token is configured, and its masked form; never the token itself.</summary>
    public static async Task<Ok<TokenStatusResponse>> Handle(UpstreamTokens tokens, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(ModelCatalog.Geminigen, cancellationToken);
        return TypedResults.Ok(new TokenStatusResponse(token is not null, token is null ? null : SecretMask.Mask(token)));
    }
}

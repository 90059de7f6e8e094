using Functions.Generation.Providers;
using Functions.Settings;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class DeleteConfigToken
{
    /// <summary>Removes the saved geminigen token; succeeds whether or not one was set, and says which.</summary>
    public static Task<Ok<SuccessResponse>> Handle(UpstreamTokens tokens, CancellationToken cancellationToken) =>
        DeleteAsync(tokens, GeminigenProvider.ProviderName, cancellationToken);

    internal static async Task<Ok<SuccessResponse>> DeleteAsync(UpstreamTokens tokens, string provider, CancellationToken cancellationToken)
    {
        var removed = await tokens.DeleteAsync(provider, cancellationToken);
        return TypedResults.Ok(new SuccessResponse(true, removed ? "Token removed." : "No token was saved."));
    }
}

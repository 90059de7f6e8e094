using Functions.Generation;
using Functions.Settings;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class DeleteConfigToken
{
    /// <summary>Removes the geminigen token; succeeds whether or not one was set, and says which.</summary>
    public static async Task<Ok<SuccessResponse>> Handle(UpstreamTokens tokens, CancellationToken cancellationToken)
    {
        var removed = await tokens.DeleteAsync(ModelCatalog.Geminigen, cancellationToken);
        return TypedResults.Ok(new SuccessResponse(true, removed ? "Token removed." : "No token was configured."));
    }
}

using Functions.Contracts.Kioai;

namespace Functions.Tokens;

/// <summary>The admin-key rule of the config functions: X-Admin-Key must hold the admin key (compared in constant time).</summary>
public sealed class AdminOnly(AdminKey adminKey)
{
    public const string Header = "X-Admin-Key";
    public const string Challenge = $"AdminKey header=\"{Header}\"";

    /// <summary>Null when the caller holds the admin key; else the 401 to answer (400 when the header comes more than once).</summary>
    public async Task<JsonHttpResult<ErrorResponse>?> RejectAsync(HttpRequest request)
    {
        if (request.Headers[Header].Count > 1)
            return KioaiErrors.BadRequest("bad_request", $"The {Header} header appears more than once; send the admin key once.");
        var presented = request.Headers[Header].ToString();
        if (await adminKey.IsValidAsync(presented, request.HttpContext.RequestAborted)) return null;
        // A 401 names its challenge (RFC 9110): a scheme of our own, since the key goes in a header of its own.
        request.HttpContext.Response.Headers.WWWAuthenticate = Challenge;
        return KioaiErrors.Of(StatusCodes.Status401Unauthorized, "unauthorized",
            string.IsNullOrEmpty(presented) ? $"This operation needs the admin key in the {Header} header." : "The admin key is not valid.");
    }
}

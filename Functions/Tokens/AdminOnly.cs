using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;

namespace Functions.Tokens;

/// <summary>
/// The admin-key rule: X-Admin-Key must hold the admin key (compared in constant time). The config functions always
/// ask for it; the image and file deletes when <see cref="AuthOptions.ImageDeleteNeedsAdminKey"/> is on.
/// </summary>
public sealed class AdminOnly(AdminKey adminKey, IOptions<AuthOptions> auth, TimeProvider clock, ILogger<AdminOnly> logger) : IDisposable
{
    public const string Header = "X-Admin-Key";
    public const string Challenge = $"AdminKey header=\"{Header}\"";
    static readonly TimeSpan WrongKeyWindow = TimeSpan.FromMinutes(1);

    // The wrong keys a window held back are counted at its end, so the size of a flood that stops is logged too.
    readonly LogWindow _wrongKeys = new(clock, WrongKeyWindow, heldBack => logger.LogWarning(
        "Wrong admin keys refused in the last {Window}, besides the one logged: {Count}, from {Clients}{Others}", WrongKeyWindow, heldBack.Count,
        string.Join(", ", heldBack.Sources), heldBack.FromOthers > 0 ? $" ({heldBack.FromOthers} of them from other addresses)" : ""));

    /// <summary>Null when the caller holds the admin key; else the kioai 401 to answer (400 when the header comes more than once).</summary>
    public async Task<JsonHttpResult<ErrorResponse>?> RejectAsync(HttpRequest request) =>
        await RefusalAsync(request) is { } refused
            ? KioaiErrors.Of(refused.Status, refused.Status == StatusCodes.Status400BadRequest ? KioaiErrorCodes.BadRequest : KioaiErrorCodes.Unauthorized, refused.Message)
            : null;

    /// <summary>Null when deletes are open, or when the caller holds the admin key; else the kioai refusal.</summary>
    public Task<JsonHttpResult<ErrorResponse>?> RejectDeleteAsync(HttpRequest request) =>
        auth.Value.ImageDeleteNeedsAdminKey ? RejectAsync(request) : Task.FromResult<JsonHttpResult<ErrorResponse>?>(null);

    /// <summary>The same for the jobs-and-files surface, in its {"detail": ...} shape.</summary>
    public async Task<JsonHttpResult<KiapiError>?> RejectKiapiDeleteAsync(HttpRequest request) =>
        auth.Value.ImageDeleteNeedsAdminKey && await RefusalAsync(request) is { } refused ? KiapiErrors.Of(refused.Status, refused.Message) : null;

    async Task<(int Status, string Message)?> RefusalAsync(HttpRequest request)
    {
        if (request.Headers[Header].Count > 1)
            return (StatusCodes.Status400BadRequest, $"The {Header} header appears more than once; send the admin key once.");
        var presented = request.Headers[Header].ToString();
        if (await adminKey.IsValidAsync(presented, request.HttpContext.RequestAborted)) return null;
        // A wrong key may be someone guessing: the log says where from (never the key): the first of a minute, then a count at its end.
        var client = request.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "an unknown address";
        if (!string.IsNullOrEmpty(presented) && _wrongKeys.ShouldLog(client))
            logger.LogWarning("Request {Method} {Path} from {Client} refused: the admin key is not valid (the others of the next {Window} " +
                "are counted in one line at its end)", request.Method, request.Path, client, WrongKeyWindow);
        // A 401 names its challenge (RFC 9110): a scheme of our own, since the key goes in a header of its own.
        request.HttpContext.Response.Headers.WWWAuthenticate = Challenge;
        return (StatusCodes.Status401Unauthorized,
            string.IsNullOrEmpty(presented) ? $"This operation needs the admin key in the {Header} header." : "The admin key is not valid.");
    }

    public void Dispose() => _wrongKeys.Dispose();
}

namespace Functions.Contracts.Kiapi;

/// <summary>The list endpoints' shared query: limit (1 to 100, default 20) and the continuation token of the previous page.</summary>
public static class ListQuery
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    const int MaxTokenLength = 1024;

    /// <summary>The raw query values (limit, continuation_token); the last one when a name repeats.</summary>
    public static (string? Limit, string? ContinuationToken) Of(HttpRequest request) =>
        (Last(request, "limit"), Last(request, "continuation_token"));

    static string? Last(HttpRequest request, string name) => request.Query.TryGetValue(name, out var values) ? values[^1] : null;

    /// <summary>
    /// The page size, and the storage's position that the token wraps (null for the first page); a 422 when either is
    /// not what a client of this API could have been given.
    /// </summary>
    public static JsonHttpResult<KiapiValidationError>? Read(string list, string? limitText, string? token, out int limit, out string? position)
    {
        limit = DefaultLimit;
        position = null;
        if (limitText is not null)
        {
            if (!WholeNumbers.IsInteger(limitText))
                return KiapiErrors.Invalid("query", "limit", "Input should be a valid integer", "int_parsing", limitText);
            if (!WholeNumbers.TryParse(limitText, out limit) || limit is < 1 or > MaxLimit) // negative or past 32 bits included
                return KiapiErrors.Invalid("query", "limit", $"Input should be between 1 and {MaxLimit}", "out_of_range", limitText);
        }
        if (token is null) return null;
        position = token.Length <= MaxTokenLength ? ContinuationTokens.Decode(list, token) : null;
        return position is null ? InvalidToken(token) : null;
    }

    /// <summary>A token this API issued wraps the storage's position, so a page's token is never the storage's own text.</summary>
    public static string? TokenFor(string list, string? position) => position is null ? null : ContinuationTokens.Encode(list, position);

    /// <summary>The lists that page, each token valid for its own only.</summary>
    public const string Files = "files", Jobs = "jobs";

    /// <summary>A token that does not decode, or that the storage refused.</summary>
    public static JsonHttpResult<KiapiValidationError> InvalidToken(string token) =>
        KiapiErrors.Invalid("query", "continuation_token", "Input should be the continuation_token of a previous page", "invalid_token", token);
}

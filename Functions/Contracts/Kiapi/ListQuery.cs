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
    /// The page size; a 422 when it, or the token's length, is not what a client of this API could have been given
    /// (the token itself is opened by <c>ListPositions</c>).
    /// </summary>
    public static JsonHttpResult<KiapiValidationError>? Read(string? limitText, string? token, out int limit)
    {
        limit = DefaultLimit;
        if (limitText is not null)
        {
            if (!WholeNumbers.IsInteger(limitText))
                return KiapiErrors.Invalid("query", "limit", "Input should be a valid integer", "int_parsing", limitText);
            if (!WholeNumbers.TryParse(limitText, out limit) || limit is < 1 or > MaxLimit) // negative or past 32 bits included
                return KiapiErrors.Invalid("query", "limit", $"Input should be between 1 and {MaxLimit}", "out_of_range", limitText);
        }
        return token is { Length: > MaxTokenLength } ? InvalidToken(token) : null;
    }

    /// <summary>The lists that page, each token valid for its own only.</summary>
    public const string Files = "files", Jobs = "jobs";

    /// <summary>A token this service did not issue for the list.</summary>
    public static JsonHttpResult<KiapiValidationError> InvalidToken(string token) =>
        KiapiErrors.Invalid("query", "continuation_token", "Input should be the continuation_token of a previous page of this list, sent with its status filter or none", "invalid_token", token);
}

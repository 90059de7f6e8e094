using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;


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

    public static JsonHttpResult<KiapiValidationError>? Read(string? limitText, string? token, out int limit)
    {
        limit = DefaultLimit;
        if (limitText is not null)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
                return KiapiErrors.Invalid("query", "limit", "Input should be a valid integer", "int_parsing", limitText);
            if (limit is < 1 or > MaxLimit)
                return KiapiErrors.Invalid("query", "limit", $"Input should be between 1 and {MaxLimit}", "out_of_range", limitText);
        }
        if (token is { Length: 0 or > MaxTokenLength })
            return KiapiErrors.Invalid("query", "continuation_token", "Input should be the continuation_token of a previous page",
                "invalid_token", token);
        return null;
    }
}

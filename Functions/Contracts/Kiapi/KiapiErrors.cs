namespace Functions.Contracts.Kiapi;

/// <summary>The jobs-and-files surface's one error writer: FastAPI's {"detail": ...} shapes, as kiapi answers.</summary>
public static class KiapiErrors
{
    public static JsonHttpResult<KiapiError> Of(int status, string detail) =>
        TypedResults.Json(new KiapiError(detail), AppJsonContext.Api.KiapiError, statusCode: status);

    public static JsonHttpResult<KiapiError> NotFound(string detail) => Of(StatusCodes.Status404NotFound, detail);

    /// <summary>422 with one validation issue, for a path parameter that does not match its pattern.</summary>
    public static JsonHttpResult<KiapiValidationError> InvalidPath(string name, string pattern, string input) =>
        Invalid("path", name, $"String should match pattern '{pattern}'", "string_pattern_mismatch", input);

    /// <summary>422 with one validation issue at <paramref name="location"/> ("path", "query", "body"); a long input is quoted cut short.</summary>
    public static JsonHttpResult<KiapiValidationError> Invalid(string location, string name, string message, string type, string? input) =>
        TypedResults.Json(new KiapiValidationError([new KiapiValidationIssue([location, name], message, type, input is null ? null : Echo.Of(input))]),
            AppJsonContext.Api.KiapiValidationError, statusCode: StatusCodes.Status422UnprocessableEntity);
}

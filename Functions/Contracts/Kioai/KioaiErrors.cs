namespace Functions.Contracts.Kioai;

/// <summary>The kioai surface's one error writer: ErrorResponse {error, message}, never ASP.NET's problem details.</summary>
public static class KioaiErrors
{
    public static JsonHttpResult<ErrorResponse> Of(int status, string error, string message) =>
        TypedResults.Json(new ErrorResponse(error, message), AppJsonContext.Api.ErrorResponse, statusCode: status);

    public static JsonHttpResult<ErrorResponse> BadRequest(string error, string message) => Of(StatusCodes.Status400BadRequest, error, message);

    public static JsonHttpResult<ErrorResponse> BadRequest(ErrorResponse error) => BadRequest(error.Error, error.Message);

    public static JsonHttpResult<ErrorResponse> NotFound(string message) => Of(StatusCodes.Status404NotFound, KioaiErrorCodes.NotFound, message);

}

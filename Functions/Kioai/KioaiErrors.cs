using Functions.Generation;
using Functions.Hosting;
using Functions.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

/// <summary>The kioai surface's one error writer: ErrorResponse {error, message}, never ASP.NET's problem details.</summary>
public static class KioaiErrors
{
    public static JsonHttpResult<ErrorResponse> Of(int status, string error, string message) =>
        TypedResults.Json(new ErrorResponse(error, message), AppJsonContext.Api.ErrorResponse, statusCode: status);

    public static JsonHttpResult<ErrorResponse> BadRequest(string error, string message) => Of(StatusCodes.Status400BadRequest, error, message);

    public static JsonHttpResult<ErrorResponse> BadRequest(ErrorResponse error) => BadRequest(error.Error, error.Message);

    public static JsonHttpResult<ErrorResponse> NotFound(string message) => Of(StatusCodes.Status404NotFound, "not_found", message);

    /// <summary>A job that ended without an image, with the status its error code means (see <see cref="GenerationErrors"/>).</summary>
    public static JsonHttpResult<ErrorResponse> ForEndedJob(JobRecord job) => job.Status switch
    {
        JobStatus.Canceled => Of(StatusCodes.Status409Conflict, "job_canceled", $"Job {job.Id} was canceled."),
        _ => Of(GenerationErrors.StatusOf(job.ErrorCode), job.ErrorCode ?? "generation_failed", job.Error ?? "The generation failed."),
    };
}

namespace Functions.Kiapi;

public static class KiapiApi
{
    /// <summary>The jobs-and-files surface (specs/kiapi-common.openapi.json) under /api/v1.</summary>
    public static IEndpointRouteBuilder MapKiapiApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/api/v1");

        v1.MapGet("/jobs/{job_id}", GetJob.Handle).WithName("GetJob").WithSummary("Get a job's status, progress and result").WithTags("jobs");
        v1.MapGet("/models", ListModels.Handle).WithName("ListModels").WithSummary("List the model catalog").WithTags("models");
        v1.MapGet("/files/{file_id}/download", DownloadFile.Handle).WithName("DownloadFile").WithSummary("Download a file's bytes").WithTags("files");
        return app;
    }
}

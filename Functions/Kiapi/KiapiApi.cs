namespace Functions.Kiapi;

public static class KiapiApi
{
    /// <summary>The jobs-and-files surface (specs/kiapi-common.openapi.json) under /api/v1.</summary>
    public static IEndpointRouteBuilder MapKiapiApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/api/v1");

        app.MapGet("/api/health", Health.Handle).WithName("Health").WithSummary("Readiness, queue length and storage reachability").WithTags("health");

        var jobs = v1.MapGroup("/jobs").WithTags("jobs");
        v1.MapGet("/jobs", ListJobs.Handle).WithTags("jobs").WithName("ListJobs").WithSummary("List jobs, newest first");
        jobs.MapGet("/{job_id}", GetJob.Handle).WithName("GetJob").WithSummary("Get a job's status, progress and result");
        jobs.MapDelete("/{job_id}", CancelJob.Handle).WithName("CancelJob").WithSummary("Cancel a job, or forget an ended one");

        var files = v1.MapGroup("/files").WithTags("files");
        v1.MapGet("/files", ListFiles.Handle).WithTags("files").WithName("ListFiles").WithSummary("List files, newest first");
        v1.MapPost("/files", UploadFile.Handle).WithTags("files").WithName("UploadFile").WithSummary("Upload an image");
        files.MapGet("/{file_id}", GetFile.Handle).WithName("GetFile").WithSummary("Get a file's record");
        files.MapDelete("/{file_id}", DeleteFile.Handle).WithName("DeleteFile").WithSummary("Delete a file");
        files.MapGet("/{file_id}/download", DownloadFile.Handle).WithName("DownloadFile").WithSummary("Download a file's bytes");

        v1.MapGet("/models", ListModels.Handle).WithName("ListModels").WithSummary("List the model catalog").WithTags("models");
        return app;
    }
}

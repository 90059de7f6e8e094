using Functions.Contracts.Kiapi;
using Functions.History;
using Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace Functions.Files;

public sealed class DeleteFile(FileStore files, ImageHistory history)
{
    /// <summary>
    /// Deletes a file's bytes and record. A generated image leaves the history first, so that no history entry ever
    /// points at bytes that are gone. 404 unknown, 422 malformed id.
    /// </summary>
    [Function(nameof(DeleteFile))]
    public async Task<Results<JsonHttpResult<KiapiFileDeleted>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/files/{file_id}")] HttpRequest request, string file_id,
        CancellationToken cancellationToken)
    {
        if (!FileIds.IsFileId(file_id)) return KiapiErrors.InvalidPath("file_id", FileIds.Pattern, file_id);
        var file = await files.GetAsync(file_id, cancellationToken);
        if (file is null) return KiapiErrors.NotFound($"File {file_id} not found");

        // A generated image's history row is keyed by its job, or (an inline generation) by its own file id.
        if (file.Meta.GetValueOrDefault("kind") == "generated")
            await history.DeleteByJobAsync(file.Meta.GetValueOrDefault(FileStore.JobKey) ?? file_id, cancellationToken);
        if (!await files.DeleteAsync(file_id, cancellationToken)) return KiapiErrors.NotFound($"File {file_id} not found");
        return TypedResults.Json(new KiapiFileDeleted(true, file_id), AppJsonContext.Api.KiapiFileDeleted);
    }
}

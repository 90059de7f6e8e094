using Functions.Contracts.Kiapi;
using Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace Functions.Files;

public sealed class GetFile(FileStore files)
{
    /// <summary>A file's record (FileRecord); 404 unknown, 422 malformed id.</summary>
    [Function(nameof(GetFile))]
    public async Task<Results<JsonHttpResult<KiapiFile>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/files/{file_id}")] HttpRequest request, string file_id,
        CancellationToken cancellationToken)
    {
        if (!FileIds.IsFileId(file_id)) return KiapiErrors.InvalidPath("file_id", FileIds.Pattern, file_id);
        var file = await files.GetAsync(file_id, cancellationToken);
        return file is null ? KiapiErrors.NotFound($"File {file_id} not found") : TypedResults.Json(file.ToKiapi(), AppJsonContext.Api.KiapiFile);
    }
}

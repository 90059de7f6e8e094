using Functions.Files;
using Functions.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kiapi;

public static class GetFile
{
    /// <summary>A file's record (FileRecord); 404 unknown, 422 malformed id.</summary>
    public static async Task<Results<JsonHttpResult<KiapiFile>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Handle(
        string file_id, FileStore files, CancellationToken cancellationToken)
    {
        if (!FileIds.IsFileId(file_id)) return KiapiErrors.InvalidPath("file_id", FileIds.Pattern, file_id);
        var file = await files.GetAsync(file_id, cancellationToken);
        return file is null ? KiapiErrors.NotFound($"File {file_id} not found") : TypedResults.Json(file.ToKiapi(), AppJsonContext.Api.KiapiFile);
    }
}

using Functions.Contracts.Kiapi;
using Functions.History;
using Functions.Maintenance;
using Functions.Tokens;

namespace Functions.Files;

/// <summary>One file by its id: read its record, or delete it. 422 for a malformed id, 404 for an unknown one.</summary>
public sealed class FileFunctions(FileStore files, ImageHistory history, TimeProvider clock, AdminOnly admin)
{
    /// <summary>A file's record (FileRecord).</summary>
    [Function("GetFile")]
    public async Task<Results<JsonHttpResult<KiapiFile>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> GetFile(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.File)] HttpRequest request, string file_id,
        CancellationToken cancellationToken)
    {
        var (file, error, notFound) = await FindAsync(file_id, cancellationToken);
        if (error is not null) return error;
        if (notFound is not null) return notFound;
        return TypedResults.Json(file!.ToKiapi(), AppJsonContext.Api.KiapiFile);
    }

    /// <summary>
    /// Deletes a file's bytes and record. A generated image leaves the history first, so that no history entry ever
    /// points at bytes that are gone; one still being stored (its file written, its history row not yet) is a 409.
    /// 401 without the admin key when Auth:ImageDeleteNeedsAdminKey is on, as for DELETE /api/images/{id}.
    /// </summary>
    [Function("DeleteFile")]
    public async Task<Results<JsonHttpResult<KiapiFileDeleted>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> DeleteFile(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Routes.File)] HttpRequest request, string file_id,
        CancellationToken cancellationToken)
    {
        if (await admin.RejectKiapiDeleteAsync(request) is { } rejected) return rejected;
        var (file, error, notFound) = await FindAsync(file_id, cancellationToken);
        if (error is not null) return error;
        if (notFound is not null) return notFound;

        // A generated image's history row is keyed by its job, or (an inline generation) by its own file id. Not stopped
        // by a client that goes away: the row and its file go together. An image is stored file first, row second: one
        // without its row, younger than the orphan sweep's bound, is still being stored, and its row would come after
        // its bytes were gone.
        if (file!.Kind == FileKinds.Generated && await history.DeleteByKeyAsync(file.HistoryKey, CancellationToken.None) is null
            && clock.GetUtcNow() - file.CreatedAt < OrphanFiles.MinimumAge)
            return await RemovedByAnotherDeleteAsync(file_id, cancellationToken) ? NotFound(file_id) : KiapiErrors.Of(StatusCodes.Status409Conflict,
                $"File {file_id} is a generated image without its history entry: still being stored, or its image being deleted right now; " +
                "delete it once its generation has answered or its job has ended");
        if (!await files.DeleteAsync(file_id, CancellationToken.None)) return NotFound(file_id);
        return TypedResults.Json(new KiapiFileDeleted(true, file_id), AppJsonContext.Api.KiapiFileDeleted);
    }

    /// <summary>How long, storage reads included, a DELETE that found the row gone waits for another DELETE, which took the row, to remove the bytes.</summary>
    static readonly TimeSpan AnotherDeleteBound = TimeSpan.FromSeconds(2);

    // Five DELETEs of one generated file at once: the one that took its row removes its bytes a moment later. The others
    // found the bytes but no row, as for an image still being stored, and answered 409; an upload's answered 404. Only
    // looking now (nothing is written), so a client that goes away ends the wait.
    async Task<bool> RemovedByAnotherDeleteAsync(string fileId, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(AnotherDeleteBound, clock);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (true)
            {
                if (await files.GetAsync(fileId, bound.Token) is null) return true;
                await Task.Delay(TimeSpan.FromMilliseconds(100), clock, bound.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false; // still there at the bound: being stored, most likely
        }
    }

    async Task<(StoredFile? File, JsonHttpResult<KiapiValidationError>? Invalid, JsonHttpResult<KiapiError>? NotFound)> FindAsync(
        string fileId, CancellationToken cancellationToken)
    {
        if (!FileIds.InPath.MayExist(fileId, out var malformed)) return (null, malformed, malformed is null ? NotFound(fileId) : null);
        var file = await files.GetAsync(fileId, cancellationToken);
        return file is null ? (null, null, NotFound(fileId)) : (file, null, null);
    }

    /// <summary>404: no such file, or an id of the contract's shape longer than any the service makes.</summary>
    public static JsonHttpResult<KiapiError> NotFound(string fileId) => KiapiErrors.NotFound($"File {Echo.Quote(fileId)} not found");
}

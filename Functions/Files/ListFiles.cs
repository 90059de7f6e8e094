using Functions.Contracts.Kiapi;
using Functions.Storage;

namespace Functions.Files;

public sealed class ListFiles(FileStore files, ListPositions positions, StorageBootstrap bootstrap)
{
    /// <summary>
    /// Files newest first (uploads and generated images), a page at a time. Private files (private generations,
    /// reference images sent inline) are not listed; whoever holds a private file's id can still read it.
    /// </summary>
    [Function(nameof(ListFiles))]
    public async Task<Results<JsonHttpResult<KiapiList<KiapiFile>>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.Files)] HttpRequest request, CancellationToken cancellationToken)
    {
        var (limit, token) = ListQuery.Of(request);
        if (ListQuery.Read(limit, token, out var pageSize) is { } invalid) return invalid;
        var (valid, marker) = await positions.OpenAsync(ListQuery.Files, token, cancellationToken);
        if (!valid) return ListQuery.InvalidToken(token!);
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var (page, next) = await files.ListAsync(marker, pageSize, file => !file.IsPrivate, cancellationToken);
        return TypedResults.Json(new KiapiList<KiapiFile>([.. page.Select(f => f.ToKiapi())], next is not null,
            await positions.SealAsync(ListQuery.Files, next, cancellationToken)), AppJsonContext.Api.KiapiListKiapiFile);
    }
}

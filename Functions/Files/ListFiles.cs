using Azure;
using Functions.Contracts.Kiapi;
using Functions.Storage;

namespace Functions.Files;

public sealed class ListFiles(FileStore files, StorageBootstrap bootstrap)
{
    /// <summary>
    /// Files newest first (uploads and generated images), a page at a time. Private files (private generations,
    /// reference images sent inline) are not listed; whoever holds a private file's id can still read it.
    /// </summary>
    [Function(nameof(ListFiles))]
    public async Task<Results<JsonHttpResult<KiapiList<KiapiFile>>, JsonHttpResult<KiapiValidationError>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.Files)] HttpRequest request, CancellationToken cancellationToken)
    {
        var (limit, continuationToken) = ListQuery.Of(request);
        if (ListQuery.Read(ListQuery.Files, limit, continuationToken, out var pageSize, out var marker) is { } invalid) return invalid;
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        try
        {
            var (page, next) = await files.ListAsync(marker, pageSize, file => !file.IsPrivate, cancellationToken);
            return TypedResults.Json(new KiapiList<KiapiFile>([.. page.Select(f => f.ToKiapi())], next is not null, ListQuery.TokenFor(ListQuery.Files, next)),
                AppJsonContext.Api.KiapiListKiapiFile);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status400BadRequest && continuationToken is not null)
        {
            return ListQuery.InvalidToken(continuationToken); // blob storage refuses a marker it did not issue
        }
    }
}

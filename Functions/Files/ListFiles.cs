using Azure;
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
        var (limit, continuationToken) = ListQuery.Of(request);
        if (ListQuery.Read(ListQuery.Files, limit, continuationToken, out var pageSize, out var marker) is { } invalid) return invalid;
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        // The storage's marker travels sealed (ListPositions): it can name a private file.
        string? storageMarker = null;
        if (marker is not null && (storageMarker = await positions.OpenAsync(marker, cancellationToken)) is null) return ListQuery.InvalidToken(continuationToken!);
        try
        {
            var (page, next) = await files.ListAsync(storageMarker, pageSize, file => !file.IsPrivate, cancellationToken);
            var token = next is null ? null : ListQuery.TokenFor(ListQuery.Files, await positions.SealAsync(next, cancellationToken));
            return TypedResults.Json(new KiapiList<KiapiFile>([.. page.Select(f => f.ToKiapi())], next is not null, token), AppJsonContext.Api.KiapiListKiapiFile);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status400BadRequest && continuationToken is not null)
        {
            return ListQuery.InvalidToken(continuationToken); // blob storage refuses a marker it did not issue
        }
    }
}

using System.Globalization;
using Functions.Contracts.Kioai;
using Functions.Files;
using Functions.Storage;
using Functions.Tokens;

namespace Functions.History;

/// <summary>The history: list (newest first, public images only for an anonymous caller) and delete.</summary>
public sealed class ImageHistoryFunctions(ImageHistory history, FileStore files, PublicUrls urls, StorageBootstrap bootstrap,
    AdminOnly admin)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    [Function("GetImageHistory")]
    public async Task<Results<Ok<ImageHistoryResponse>, JsonHttpResult<ErrorResponse>>> GetImageHistory(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.History)] HttpRequest request, CancellationToken cancellationToken)
    {
        if (ReadInt(request, "limit", KioaiErrorCodes.InvalidLimit, DefaultLimit, 1, MaxLimit, out var limit) is { } limitError) return limitError;
        if (ReadInt(request, "offset", KioaiErrorCodes.InvalidOffset, 0, 0, int.MaxValue, out var offset) is { } offsetError) return offsetError;

        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var page = await history.ListPublicAsync(limit, offset, cancellationToken);
        var images = page.Images.Select(i => new ImageRecord(i.Id, urls.FileDownload(request, i.FileId), i.Prompt, i.Style, i.AspectRatio,
            i.Model, i.IsPrivate, i.UserId, i.CreatedAt.UtcDateTime)).ToList();
        return TypedResults.Ok(new ImageHistoryResponse(images, page.Total));
    }

    /// <summary>
    /// Removes the history row, then the image's bytes; 404 when there is no such image (a path whose id is no 64-bit
    /// integer matches no route: 404 too, as the contract declares), 401 without the admin key when
    /// Auth:ImageDeleteNeedsAdminKey is on.
    /// </summary>
    [Function("DeleteImage")]
    public async Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> DeleteImage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Routes.Image)] HttpRequest request, string id,
        CancellationToken cancellationToken)
    {
        if (await admin.RejectDeleteAsync(request) is { } rejected) return rejected;

        // Not stopped by a client that goes away: the row and its file go together. An id no image has (zero, negative,
        // or written unlike any id the service gives, e.g. "+5" or "007") is an image that does not exist.
        var deleted = long.TryParse(id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var imageId) && imageId > 0
            && id == imageId.ToString(CultureInfo.InvariantCulture)
            ? await history.DeleteAsync(imageId, CancellationToken.None)
            : null;
        if (deleted is null) return KioaiErrors.NotFound($"Image {Echo.Quote(id)} does not exist.");
        await files.DeleteAsync(deleted.FileId, CancellationToken.None);
        return TypedResults.Ok(new SuccessResponse(true, $"Image {imageId} deleted."));
    }

    static JsonHttpResult<ErrorResponse>? ReadInt(HttpRequest request, string name, string code, int fallback, int min, int max, out int value)
    {
        value = fallback;
        if (!request.Query.TryGetValue(name, out var values)) return null;
        if (values.Count == 1 && WholeNumbers.TryParse(values[0], out value) && value >= min && value <= max)
            return null;
        return KioaiErrors.BadRequest(code, $"{name} must be one whole number from {min} to {max}, not '{Echo.Quote(values.ToString())}'.");
    }
}

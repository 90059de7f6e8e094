using Functions.Files;
using Functions.Images;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class DeleteImage
{
    /// <summary>Removes the history row, then the image's bytes; 404 when there is no such image, 400 for a non-integer id.</summary>
    public static async Task<Results<Ok<SuccessResponse>, JsonHttpResult<ErrorResponse>>> Handle(
        string id, ImageHistory history, FileStore files, CancellationToken cancellationToken)
    {
        if (!long.TryParse(id, System.Globalization.NumberStyles.None, null, out var imageId) || imageId <= 0)
            return KioaiErrors.BadRequest("invalid_id", $"The image id must be a positive integer, not '{id}'.");

        var deleted = await history.DeleteAsync(imageId, cancellationToken);
        if (deleted is null) return KioaiErrors.NotFound($"Image {imageId} does not exist.");
        await files.DeleteAsync(deleted.FileId, cancellationToken);
        return TypedResults.Ok(new SuccessResponse(true, $"Image {imageId} deleted."));
    }
}

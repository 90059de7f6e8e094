using Functions.Hosting;
using Functions.Images;
using Functions.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kioai;

public static class GetImageHistory
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    /// <summary>The images the caller may see, newest first; an anonymous caller sees public images only.</summary>
    public static async Task<Results<Ok<ImageHistoryResponse>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpRequest request, ImageHistory history, PublicUrls urls, StorageBootstrap bootstrap, CancellationToken cancellationToken)
    {
        if (ReadInt(request, "limit", DefaultLimit, 1, MaxLimit, out var limit) is { } limitError) return limitError;
        if (ReadInt(request, "offset", 0, 0, int.MaxValue, out var offset) is { } offsetError) return offsetError;
        await bootstrap.EnsureCreatedAsync(cancellationToken); // a first request on new storage may come before anything created the table

        var page = await history.ListPublicAsync(limit, offset, cancellationToken);
        var images = page.Images.Select(i => new ImageRecord(i.Id, urls.FileDownload(request, i.FileId), i.Prompt, i.Style, i.AspectRatio,
            i.Model, i.IsPrivate, i.UserId, i.CreatedAt.UtcDateTime)).ToList();
        return TypedResults.Ok(new ImageHistoryResponse(images, page.Total));
    }

    static JsonHttpResult<ErrorResponse>? ReadInt(HttpRequest request, string name, int fallback, int min, int max, out int value)
    {
        value = fallback;
        if (!request.Query.TryGetValue(name, out var values)) return null;
        if (values.Count == 1 && int.TryParse(values[0], System.Globalization.NumberStyles.None, null, out value) && value >= min && value <= max)
            return null;
        var range = max == int.MaxValue ? $"{min} or more" : $"from {min} to {max}";
        return KioaiErrors.BadRequest($"invalid_{name}", $"{name} must be one whole number {range}, not '{values}'.");
    }
}
